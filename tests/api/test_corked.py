"""The corked HTTP protocol: writes of one loop turn leave together; answers and streams arrive whole."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import httpx
from servers import serve_in_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from interlock.api.corked import CorkedHttpToolsProtocol, CorkedTransport


class _Recording(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:  # type: ignore[override]
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 1) if name == "peername" else default


async def test_writes_of_one_turn_leave_in_one_write_and_close_sends_them_first() -> None:
    inner = _Recording()
    corked = CorkedTransport(inner, asyncio.get_running_loop())
    corked.write(b"HTTP/1.1 200 OK\r\n\r\n")
    corked.write(b"")
    corked.write(b"body")
    assert inner.writes == []  # nothing before the turn ends
    await asyncio.sleep(0)
    assert inner.writes == [b"HTTP/1.1 200 OK\r\n\r\nbody"]
    corked.write(b"event 1")
    await asyncio.sleep(0)
    corked.write(b"event 2")
    corked.close()  # pending bytes go out before the connection closes
    assert inner.writes[1:] == [b"event 1", b"event 2"] and inner.closed
    assert corked.get_extra_info("peername") == ("127.0.0.1", 1)  # the rest is the real transport's


async def _json(request: Request) -> Response:
    return JSONResponse({"n": int(request.query_params.get("n", "0"))})


async def _events(request: Request) -> Response:
    async def body() -> Any:
        for i in range(50):
            yield f"data: {i}\n\n".encode()
            if i % 10 == 0:
                await asyncio.sleep(0.001)  # some events in the same turn, some not

    return StreamingResponse(body(), media_type="text/event-stream")


def _serving() -> Any:
    app = Starlette(routes=[Route("/json", _json), Route("/events", _events)])
    return serve_in_thread(app, http=CorkedHttpToolsProtocol)


def test_answers_streams_and_closing_connections_arrive_whole_over_real_http() -> None:
    with _serving() as url:
        with httpx.Client(base_url=url) as client:  # keep-alive: one connection, many answers
            assert [client.get("/json", params={"n": n}).json()["n"] for n in range(20)] == list(range(20))
            events = client.get("/events").text
            assert events == "".join(f"data: {i}\n\n" for i in range(50))
        closing = httpx.get(url + "/json?n=7", headers={"connection": "close"})
        assert closing.json() == {"n": 7} and closing.headers["connection"] == "close"
        with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1]))) as raw:
            raw.sendall(b"GET /json?n=3 HTTP/1.0\r\n\r\n")  # HTTP/1.0: the server closes after the answer
            received = b""
            while chunk := raw.recv(65536):
                received += chunk
        assert received.startswith(b"HTTP/1.1 200") and received.endswith(b'{"n":3}')
