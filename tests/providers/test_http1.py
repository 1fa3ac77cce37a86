"""The plain-http transport against real servers on 127.0.0.1 that answer byte for byte as told.

Each test's server is a raw asyncio server: it reads one request head and body at a time and
answers with whatever the test's ``answer`` coroutine writes, so odd answers (chunked, delimited
by close, cut, garbage, slow) are exact. Outcomes are checked where they show: on the server
(connections opened and closed, bytes received) and in what the caller gets.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import orjson
import pytest

from interlock.config.deployments import Timeouts
from interlock.errors import UpstreamConnectionError, UpstreamHTTPError, UpstreamTimeout
from interlock.providers import http1
from interlock.providers.http_client import UpstreamClient


@dataclass
class Request:
    conn: int  # which connection (0, 1, ...) it came on
    head: bytes
    body: bytes


@dataclass
class Exchange:
    request: Request
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    async def hold(self, seconds: float) -> None:
        """Wait, watching the connection: if the client closes it, the handler ends (and counts it)."""
        try:
            if not await asyncio.wait_for(self.reader.read(1), seconds):
                raise ConnectionResetError("the client closed the connection")
        except TimeoutError:
            pass

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    def reset(self) -> None:
        sock = self.writer.transport.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()


Answer = Callable[[Exchange], Awaitable[bool]]  # writes the answer; False closes the connection


@dataclass
class RawServer:
    answer: Answer
    requests: list[Request] = field(default_factory=list)
    opened: int = 0
    closed: int = 0
    port: int = 0

    @property
    def open_now(self) -> int:
        return self.opened - self.closed

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn, self.opened = self.opened, self.opened + 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:"))
                request = Request(conn, head, await reader.readexactly(length))
                self.requests.append(request)
                if not await self.answer(Exchange(request, reader, writer)):
                    break
            writer.close()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client went away
        finally:
            self.closed += 1

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Answer], Awaitable[RawServer]]]:
    servers: list[asyncio.Server] = []

    async def start(answer: Answer) -> RawServer:
        raw = RawServer(answer)
        server = await asyncio.start_server(raw.handle, "127.0.0.1", 0)
        raw.port = server.sockets[0].getsockname()[1]
        servers.append(server)
        return raw

    yield start
    for server in servers:
        server.close()


def json_answer(payload: dict, extra: bytes = b"", status: bytes = b"200 OK") -> bytes:
    body = orjson.dumps(payload)
    return (b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n" + extra
            + b"Content-Length: %d\r\n\r\n" % len(body) + body)


async def echo_conn(ex: Exchange) -> bool:
    """A keep-alive JSON answer naming the connection it came on."""
    await ex.send(json_answer({"conn": ex.request.conn}))
    return True


def client(raw: RawServer, max_connections: int = 4, total: float = 5.0) -> UpstreamClient:
    return UpstreamClient("local", raw.url("/v1"), {}, Timeouts(connect=1, total=total), max_connections)


@contextlib.asynccontextmanager
async def connected(raw: RawServer, max_connections: int = 4, total: float = 5.0) -> AsyncIterator[UpstreamClient]:
    """``client`` for the block, closed (with every connection of its pool) when the block ends."""
    up = client(raw, max_connections, total)
    try:
        yield up
    finally:
        await up.aclose()


async def until(condition: Callable[[], bool], timeout: float = 2.0) -> None:
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def test_the_request_is_a_plain_http11_post_without_accept_encoding(serve) -> None:
    raw = await serve(echo_conn)
    async with connected(raw) as up:
        assert await up.post_json("/chat/completions", {"a": 1}, {"x-request-id": "r1"}) == {"conn": 0}
    head, body = raw.requests[0].head.decode(), raw.requests[0].body
    lines = head.split("\r\n")
    assert lines[0] == "POST /v1/chat/completions HTTP/1.1"
    names = {line.split(":")[0].lower(): line.split(": ", 1)[1] for line in lines[1:] if line}
    assert names["host"] == f"127.0.0.1:{raw.port}" and names["x-request-id"] == "r1"
    assert names["content-type"] == "application/json" and names["content-length"] == str(len(body))
    assert "accept-encoding" not in names and orjson.loads(body) == {"a": 1}


async def test_keep_alive_reuses_the_last_returned_connection(serve) -> None:
    gate = asyncio.Event()

    async def answer(ex: Exchange) -> bool:
        if orjson.loads(ex.request.body).get("wait"):
            await gate.wait()
        return await echo_conn(ex)

    raw = await serve(answer)
    async with connected(raw) as up:
        assert [(await up.post_json("/x", {}, {}))["conn"] for _ in range(3)] == [0, 0, 0]
        # two at once need two connections; the one that came back last is reused first
        slow = asyncio.create_task(up.post_json("/x", {"wait": True}, {}))
        await until(lambda: len(raw.requests) == 4)
        assert (await up.post_json("/x", {}, {}))["conn"] == 1  # 0 is busy with the slow one
        gate.set()
        assert (await slow)["conn"] == 0
        assert (await up.post_json("/x", {}, {}))["conn"] == 0
        assert raw.opened == 2
    await until(lambda: raw.open_now == 0)  # aclose closed every connection


async def test_a_chunked_body_is_decoded_and_its_connection_reused(serve) -> None:
    async def answer(ex: Exchange) -> bool:
        await ex.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                      b"5\r\n{\"a\":\r\n")
        await asyncio.sleep(0.01)
        await ex.send(b"2\r\n 1\r\n1\r\n}\r\n0\r\n\r\n")
        return True

    raw = await serve(answer)
    async with connected(raw) as up:
        assert await up.post_json("/x", {}, {}) == {"a": 1}
        assert await up.post_json("/x", {}, {}) == {"a": 1}
        assert raw.opened == 1


async def test_a_body_delimited_by_close_is_read_to_the_close_and_not_reused(serve) -> None:
    async def answer(ex: Exchange) -> bool:
        await ex.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"a\": ")
        await asyncio.sleep(0.01)
        await ex.send(b"2}")
        return False

    raw = await serve(answer)
    async with connected(raw) as up:
        assert await up.post_json("/x", {}, {}) == {"a": 2}
        assert await up.post_json("/x", {}, {}) == {"a": 2}
        assert raw.opened == 2


@pytest.mark.parametrize("extra", [b"Connection: close\r\n", b""], ids=["connection-close", "http-1.0"])
async def test_an_answer_that_does_not_keep_alive_is_not_reused(serve, extra: bytes) -> None:
    async def answer(ex: Exchange) -> bool:
        reply = json_answer({"ok": True}, extra)
        await ex.send(reply if extra else reply.replace(b"HTTP/1.1", b"HTTP/1.0", 1))
        await asyncio.sleep(0.3)  # the server would keep it open: only the client's choice closes it
        return False

    raw = await serve(answer)
    async with connected(raw) as up:
        await up.post_json("/x", {}, {})
        await until(lambda: raw.closed == 1)  # closed by the client, long before the server would
        await up.post_json("/x", {}, {})
        assert raw.opened == 2


async def test_an_idle_connection_the_server_closed_leaves_the_pool(serve) -> None:
    async def answer(ex: Exchange) -> bool:
        await echo_conn(ex)
        return False  # the server closes each connection once idle

    raw = await serve(answer)
    async with connected(raw, max_connections=1) as up:
        assert (await up.post_json("/x", {}, {}))["conn"] == 0
        await until(lambda: raw.closed == 1)
        await asyncio.sleep(0.05)  # the client sees the close
        assert (await up.post_json("/x", {}, {}))["conn"] == 1  # a new connection, in the freed slot


async def test_an_idle_connection_past_the_idle_limit_is_closed_not_reused(serve) -> None:
    raw = await serve(echo_conn)
    pool = http1.Http1Pool("127.0.0.1", raw.port, max_connections=2, connect_timeout=1, idle_timeout=0.1)
    try:
        resp = await pool.request("/x", {}, b"{}", 5)
        await resp.read()
        resp.release()
        await asyncio.sleep(0.25)
        assert raw.closed == 1  # closed while idle, with no request to notice it
        resp = await pool.request("/x", {}, b"{}", 5)
        assert orjson.loads(await resp.read()) == {"conn": 1}
        resp.release()
    finally:
        await pool.aclose()


async def test_a_garbage_answer_is_a_connection_error(serve) -> None:
    async def answer(ex: Exchange) -> bool:
        await ex.send(b"HTTP/1.1 abc OK\r\n\r\n")
        return True

    raw = await serve(answer)
    async with connected(raw) as up:
        with pytest.raises(UpstreamConnectionError, match="Could not reach upstream deployment 'local'"):
            await up.post_json("/x", {}, {})
        async with http1_pool(raw) as pool:
            with pytest.raises(http1.ProtocolError):
                await pool.request("/x", {}, b"{}", 5)
        await until(lambda: raw.open_now == 0)  # never reused


@pytest.mark.parametrize("reset", [False, True], ids=["close", "reset"])
async def test_a_body_cut_midway_is_a_connection_error(serve, reset: bool) -> None:
    async def answer(ex: Exchange) -> bool:
        await ex.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\"")
        if reset:
            ex.reset()
        return False

    raw = await serve(answer)
    async with connected(raw) as up:
        with pytest.raises(UpstreamConnectionError, match="IncompleteBody"):
            await up.post_json("/x", {}, {})


async def sse_answer(ex: Exchange, events: int, then_reset: bool) -> bool:
    await ex.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
    for i in range(events):
        event = b"data: {\"i\": %d}\n\n" % i
        await ex.send(b"%x\r\n%s\r\n" % (len(event), event))
        await asyncio.sleep(0.005)
    if then_reset:
        ex.reset()
        return False
    await ex.send(b"0\r\n\r\n")
    return True


async def read_events(up: UpstreamClient, got: list[str], headers: dict[str, str] | None = None) -> None:
    async with up.open_sse("/x", {"stream": True}, headers or {}) as sse:
        while (events := await sse.read()) is not None:
            got += [data for _, data in events]


async def test_a_stream_reset_midway_broke_off(serve) -> None:
    raw = await serve(lambda ex: sse_answer(ex, 3, then_reset=True))
    up = client(raw)
    got: list[str] = []
    try:
        with pytest.raises(UpstreamConnectionError, match="broke off its stream"):
            await read_events(up, got)
        assert got == ['{"i": 0}', '{"i": 1}', '{"i": 2}']  # what came before the reset was delivered
    finally:
        await up.aclose()


async def test_a_whole_stream_is_read_and_its_connection_reused(serve) -> None:
    raw = await serve(lambda ex: sse_answer(ex, 5, then_reset=False))
    async with connected(raw) as up:
        for _ in range(2):
            got: list[str] = []
            await read_events(up, got)
            assert got == [f'{{"i": {i}}}' for i in range(5)]
        assert raw.opened == 1


@pytest.mark.parametrize("leave", ["error", "early"])
async def test_an_abandoned_stream_closes_its_connection(serve, leave: str) -> None:
    raw = await serve(lambda ex: sse_answer(ex, 50, then_reset=False))
    async with connected(raw) as up:
        with contextlib.suppress(RuntimeError):
            async with up.open_sse("/x", {"stream": True}, {}) as sse:
                assert await sse.read()  # one read, then the caller leaves: by an error, or done early
                if leave == "error":
                    raise RuntimeError("the client went away")
        await until(lambda: raw.closed == 1, timeout=0.5)  # the rest of a long answer is not awaited
        got: list[str] = []
        await read_events(up, got)
        assert len(got) == 50 and raw.opened == 2


async def test_a_stream_left_at_its_last_event_keeps_its_connection_when_the_end_follows(serve) -> None:
    async def answer(ex: Exchange) -> bool:
        await ex.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                      b"e\r\ndata: [DONE]\n\n\r\n")
        await asyncio.sleep(0.01)  # the chunked end comes after the caller has stopped reading
        await ex.send(b"0\r\n\r\n")
        return True

    raw = await serve(answer)
    async with connected(raw) as up:
        for _ in range(3):
            async with up.open_sse("/x", {"stream": True}, {}) as sse:
                assert await sse.read() == [("message", "[DONE]")]  # a provider returns here
            await asyncio.sleep(0.03)
        assert raw.opened == 1 and len(raw.requests) == 3


async def test_a_slow_server_times_out_and_its_connection_is_closed(serve) -> None:
    async def answer(ex: Exchange) -> bool:
        await ex.hold(5)
        return await echo_conn(ex)

    raw = await serve(answer)
    up = client(raw, total=0.1)  # the safety net: total + 1 s
    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(UpstreamTimeout, match="did not answer within 0.1s"):
            await up.post_json("/x", {}, {})
        assert 1.0 <= loop.time() - started < 2.0
        with pytest.raises(UpstreamTimeout, match="timed out while streaming"):
            await read_events(up, [])
        await until(lambda: raw.open_now == 0)
    finally:
        await up.aclose()


async def test_a_stream_that_stalls_midway_times_out(serve) -> None:
    async def answer(ex: Exchange) -> bool:
        await ex.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                      b"9\r\ndata: 1\n\n\r\n")
        await ex.hold(5)
        return False

    raw = await serve(answer)
    up = client(raw, total=0.1)
    got: list[str] = []
    try:
        with pytest.raises(UpstreamTimeout, match="timed out while streaming"):
            await read_events(up, got)
        assert got == ["1"]
    finally:
        await up.aclose()


async def test_the_connection_limit_holds_and_waiters_are_served_in_order(serve) -> None:
    release = asyncio.Event()
    most_open = 0

    async def answer(ex: Exchange) -> bool:
        nonlocal most_open
        most_open = max(most_open, raw.open_now)
        if ex.request.body != b'{"n":0}':
            await release.wait()
        await ex.send(json_answer({"n": orjson.loads(ex.request.body)["n"]}))
        return True

    raw = await serve(answer)
    up = client(raw, max_connections=2)
    done: list[int] = []

    async def one(n: int) -> None:
        done.append((await up.post_json("/x", {"n": n}, {}))["n"])

    try:
        first = asyncio.create_task(one(0))
        await first  # one connection idle
        tasks = []
        for n in range(1, 7):
            tasks.append(asyncio.create_task(one(n)))
            await asyncio.sleep(0.01)  # a known arrival order
        await until(lambda: len(raw.requests) == 3)
        await asyncio.sleep(0.05)
        assert len(raw.requests) == 3 and raw.opened == 2  # 4 wait for one of the 2 connections
        release.set()
        await asyncio.gather(*tasks)
        order = [orjson.loads(r.body)["n"] for r in raw.requests]
        assert order[:3] == [0, 1, 2] and order[3:] == [3, 4, 5, 6]  # first come, first served
        assert most_open <= 2 and raw.opened == 2 and sorted(done) == list(range(7))
    finally:
        await up.aclose()


async def test_a_waiter_that_times_out_leaves_the_queue(serve) -> None:
    async def answer(ex: Exchange) -> bool:
        await asyncio.sleep(0.5)
        return await echo_conn(ex)

    raw = await serve(answer)
    pool = http1.Http1Pool("127.0.0.1", raw.port, max_connections=1, connect_timeout=1)
    try:
        busy = asyncio.create_task(pool.request("/x", {}, b"{}", 5))
        await until(lambda: len(raw.requests) == 1)
        with pytest.raises(TimeoutError):
            await pool.request("/x", {}, b"{}", 0.05)
        resp = await busy
        await resp.read()
        resp.release()
        resp = await pool.request("/x", {}, b"{}", 5)  # the slot is not lost to the waiter that left
        assert orjson.loads(await resp.read()) == {"conn": 0}
        resp.release()
    finally:
        await pool.aclose()


async def test_a_cancelled_request_closes_its_connection(serve) -> None:
    async def answer(ex: Exchange) -> bool:
        if ex.request.conn == 0:
            await ex.hold(5)
        return await echo_conn(ex)

    raw = await serve(answer)
    async with connected(raw, max_connections=1) as up:
        task = asyncio.create_task(up.post_json("/x", {}, {}))
        await until(lambda: len(raw.requests) == 1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await until(lambda: raw.closed == 1)  # the server saw the client go
        assert (await up.post_json("/x", {}, {}))["conn"] == 1  # its slot is free again


@pytest.mark.parametrize("headers", [
    {"x-request-id": "a\r\nInjected: 1"},
    {"x-request-id": "a\nb"},
    {"x-bad\r\nname": "v"},
    {"": "v"},
])
async def test_a_header_that_http_cannot_carry_is_refused_and_nothing_is_sent(serve, headers) -> None:
    raw = await serve(echo_conn)
    async with connected(raw) as up:
        with pytest.raises(UpstreamConnectionError, match="cannot carry"):
            await up.post_json("/x", {}, headers)
        with pytest.raises(UpstreamConnectionError, match="cannot carry"):
            await read_events(up, [], headers)
        await asyncio.sleep(0.05)
        assert raw.opened == 0 and raw.requests == []


async def test_an_error_status_keeps_retry_after_in_any_case(serve) -> None:
    async def answer(ex: Exchange) -> bool:
        error = {"error": {"message": "slow down", "type": "rate_limit"}}
        await ex.send(json_answer(error, b"RETRY-AFTER: 7\r\n", b"429 Too Many Requests"))
        return True

    raw = await serve(answer)
    async with connected(raw) as up:
        for call in (lambda: up.post_json("/x", {}, {}), lambda: read_events(up, [])):
            with pytest.raises(UpstreamHTTPError, match="answered HTTP 429: slow down") as info:
                await call()
            assert info.value.upstream_status == 429 and info.value.retry_after == 7
        assert raw.opened == 1  # an error answer read to its end keeps its connection


async def test_an_interim_100_continue_is_skipped(serve) -> None:
    async def answer(ex: Exchange) -> bool:
        await ex.send(b"HTTP/1.1 100 Continue\r\n\r\n" + json_answer({"a": 1}, b"X-Final: yes\r\n"))
        return True

    raw = await serve(answer)
    async with http1_pool(raw) as pool:
        resp = await pool.request("/x", {}, b"{}", 5)
        assert resp.status == 200 and resp.headers["x-final"] == "yes" and resp.headers["X-FINAL"] == "yes"
        assert orjson.loads(await resp.read()) == {"a": 1}
        resp.release()


async def test_a_large_stream_pauses_reading_until_the_caller_drains_it(serve) -> None:
    piece = b"data: " + b"x" * (64 * 1024 - 8) + b"\n\n"

    async def answer(ex: Exchange) -> bool:
        await ex.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: %d\r\n\r\n"
                      % (len(piece) * 128))
        for _ in range(128):  # 8 MiB, more than the socket buffers hold
            await ex.send(piece)
        return True

    raw = await serve(answer)
    async with http1_pool(raw) as pool:
        resp = await pool.request("/x", {}, b"{}", 10)
        await asyncio.sleep(0.2)
        assert resp._conn.paused and http1.HIGH_WATER < resp._size < 2 * http1.HIGH_WATER
        total = 0
        while data := await resp.content.readany():
            total += len(data)
        assert total == len(piece) * 128
        resp.release()


async def test_a_refused_connection_is_a_connection_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connecting is refused
        up = UpstreamClient("local", f"http://127.0.0.1:{port}/v1", {}, Timeouts(connect=1), 2)
        try:
            with pytest.raises(UpstreamConnectionError, match="ConnectError"):
                await up.post_json("/x", {}, {})
        finally:
            await up.aclose()


@contextlib.asynccontextmanager
async def http1_pool(raw: RawServer) -> AsyncIterator[http1.Http1Pool]:
    pool = http1.Http1Pool("127.0.0.1", raw.port, max_connections=2, connect_timeout=1)
    try:
        yield pool
    finally:
        await pool.aclose()
