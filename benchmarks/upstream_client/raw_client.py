"""The floor, for information only: a raw asyncio.Protocol + httptools keep-alive client.

It does what a call needs and nothing else: one prebuilt request head, no timeouts, no TLS, no
connection limit, no error mapping; a stream's events are only counted (split on blank lines).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httptools
import orjson
from workload import BODY, PATH, STREAM_BODY, call_headers
from yarl import URL


class _RawConnection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; one request at a time."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.body: list[bytes] = []
        self.content_type = b""
        self.queue: asyncio.Queue[bytes | None] | None = None  # streams: body pieces, None at the end
        self.done: asyncio.Future[bytes] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"content-type":
            self.content_type = value

    def on_body(self, body: bytes) -> None:
        if self.queue is not None:
            self.queue.put_nowait(body)
        else:
            self.body.append(body)

    def on_message_complete(self) -> None:
        if self.queue is not None:
            self.queue.put_nowait(None)
        elif self.done is not None:
            self.done.set_result(b"".join(self.body))
            self.body.clear()


class RawClient:
    """The floor: a pool of raw keep-alive connections, requests written as prebuilt bytes."""

    def __init__(self, base: str) -> None:
        url = URL(base)
        self.host, self.port = url.host or "127.0.0.1", url.port or 80
        self.idle: list[_RawConnection] = []
        self.head = (f"POST {url.path.rstrip('/')}{PATH} HTTP/1.1\r\nhost: {url.host}:{url.port}\r\n"
                     "content-type: application/json\r\n").encode()

    async def _conn(self) -> _RawConnection:
        if self.idle:
            return self.idle.pop()
        loop = asyncio.get_running_loop()
        _, proto = await loop.create_connection(_RawConnection, self.host, self.port)
        return proto

    def _send(self, conn: _RawConnection, i: int, body: Any) -> None:
        data = orjson.dumps(body)
        extra = "".join(f"{k}: {v}\r\n" for k, v in call_headers(i).items())
        assert conn.transport is not None
        conn.transport.write(self.head + f"{extra}content-length: {len(data)}\r\n\r\n".encode() + data)

    async def post(self, i: int) -> Any:
        conn = await self._conn()
        conn.done = asyncio.get_running_loop().create_future()
        self._send(conn, i, BODY)
        raw = await conn.done
        status = conn.parser.get_status_code()
        if status >= 400 or not conn.content_type.startswith(b"application/json"):
            raise RuntimeError(status)
        self.idle.append(conn)
        return orjson.loads(raw)

    async def stream(self, i: int) -> int:
        conn = await self._conn()
        conn.queue = queue = asyncio.Queue()
        self._send(conn, i, STREAM_BODY)
        pending, n = b"", 0
        while (piece := await queue.get()) is not None:
            parts = (pending + piece).split(b"\n\n")
            pending = parts.pop()
            n += len(parts)
        conn.queue = None
        self.idle.append(conn)
        return n

    async def aclose(self) -> None:
        for conn in self.idle:
            if conn.transport is not None:
                conn.transport.close()
