"""A small HTTP/1.1 client for plain ``http://`` upstreams: a keep-alive pool over asyncio + httptools.

It sends a POST with a body and hands back the answer's status, headers and body (whole, or as it
arrives) over pooled keep-alive connections to one host and port. No TLS, redirects, cookies,
proxies or compression: ``https://`` upstreams go through aiohttp. Failures it raises:

    TimeoutError              the request's deadline passed (connect, pool wait, head or body)
    HttpError
     ├── ConnectError         the connection could not be opened
     ├── ServerDisconnected   the connection closed or was reset before the answer's head ended
     │    └── IncompleteBody  ... before the answer's body ended
     ├── ProtocolError        the answer is not valid HTTP/1.1
     └── InvalidHeader        (also a ValueError) a request header cannot be sent; nothing was sent
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import re
import socket
from collections.abc import Mapping
from typing import Any

import httptools

IDLE_TIMEOUT_S = 15.0  # an idle connection older than this is closed, not reused
HIGH_WATER = 1 << 20  # a stream's buffered bytes above which reading from the socket pauses
LINGER_BYTES = 1 << 16  # what a lingering release (see Response.release) reads and drops at most
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # a header name (RFC 9110 token)
_OWN_HEADERS = frozenset({"host", "content-length", "transfer-encoding"})  # written here, from the request


class HttpError(Exception):
    """A transport failure of an HTTP/1.1 exchange (the tree is in the module docstring)."""


class ConnectError(HttpError): ...


class ServerDisconnected(HttpError): ...


class IncompleteBody(ServerDisconnected): ...


class ProtocolError(HttpError): ...


class InvalidHeader(HttpError, ValueError): ...


class Headers(dict[str, str]):
    """An answer's headers, looked up by name in any case (names are stored lowercased; repeated
    headers are joined with ", ")."""

    def __getitem__(self, name: str) -> str:
        return dict.__getitem__(self, name.lower())

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        return dict.get(self, name.lower(), default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and dict.__contains__(self, name.lower())


def encode_head(target: str, host: str, headers: Mapping[str, str], length: int) -> bytes:
    """The request head. A name that is not a token, or a value with CR, LF or NUL, raises
    InvalidHeader (naming the header, never its value, which may be a key)."""
    lines = [""]
    for name, value in headers.items():
        if not _TOKEN.fullmatch(name) or "\r" in value or "\n" in value or "\0" in value:
            raise InvalidHeader(f"the request header {name[:40]!r} has a name or value that HTTP cannot carry")
        lower = name.lower()
        if lower in _OWN_HEADERS:
            host = value if lower == "host" else host
            continue
        lines.append(f"{name}: {value}\r\n")
    lines[0] = f"POST {target} HTTP/1.1\r\nHost: {host}\r\n"
    lines.append(f"Content-Length: {length}\r\n\r\n")
    return "".join(lines).encode()


class Response:
    """One answer: ``status`` and ``headers``, then the body by ``read()`` (all of it) or ``readany()``
    (what has arrived; b"" at the end). ``release()`` must follow: it returns the connection to the
    pool if the body was read to its end and the server keeps it alive, and closes it otherwise."""

    __slots__ = ("_chunks", "_conn", "_done", "_error", "_head", "_released", "_size", "_streaming",
                 "_timer", "_waiter", "headers", "status")

    def __init__(self, conn: _Connection, deadline: float) -> None:
        self.status = 0
        self.headers = Headers()
        self._conn = conn
        self._chunks: list[bytes] = []
        self._size = 0
        self._head = self._done = self._released = False
        self._streaming = True  # read() lifts the high-water mark: it must take the whole body
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._timer = conn.loop.call_at(deadline, conn.expire, self)

    @property
    def content_type(self) -> str:
        """The media type, lowercased, without parameters (as aiohttp gives it)."""
        raw = self.headers.get("content-type")
        return "application/octet-stream" if raw is None else raw.partition(";")[0].strip().lower()

    @property
    def content(self) -> Response:
        """The body as a byte stream (``readany``), where aiohttp's response has its StreamReader."""
        return self

    async def readany(self) -> bytes:
        while not self._chunks:
            if self._error is not None:
                raise self._error
            if self._done:
                return b""
            await self._wait()
        chunks = self._chunks
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        self._size = 0
        self._conn.resume()
        return data

    async def read(self) -> bytes:
        self._streaming = False
        self._conn.resume()
        while not self._done:
            if self._error is not None:
                raise self._error
            await self._wait()
        chunks = self._chunks
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def release(self, linger: float = 0.0) -> None:
        """With ``linger``, an answer whose caller has read all it wants (an SSE stream past its last
        event, before the body's own end has arrived) keeps its connection if the end comes within
        ``linger`` seconds and LINGER_BYTES; what comes meanwhile is dropped."""
        if self._released:
            return
        self._released = True
        self._timer.cancel()
        conn = self._conn
        if linger > 0 and conn.keep_alive and not self._done and self._error is None:
            self._chunks.clear()
            self._size, self._streaming = 0, False
            conn.resume()
            self._timer = conn.loop.call_later(linger, conn.abort)
            return  # _finish gives the connection back if the end comes in time
        conn.response = None
        if self._done and conn.keep_alive:
            conn.pool.pass_on(conn)
        else:  # not read to its end (abandoned, failed, cancelled) or not to be kept: never reused
            conn.abort()

    async def _wait(self) -> None:
        self._waiter = waiter = self._conn.loop.create_future()
        try:
            await waiter
        finally:
            self._waiter = None

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _feed(self, data: bytes) -> None:
        if self._released:  # lingering: dropped
            self._size += len(data)
            if self._size > LINGER_BYTES:
                self._conn.abort()
            return
        self._chunks.append(data)
        self._size += len(data)
        if self._streaming and self._size > HIGH_WATER:
            self._conn.pause()
        self._wake()

    def _finish(self, error: BaseException | None = None) -> None:
        if not self._done and self._error is None:
            self._done, self._error = error is None, error
            self._timer.cancel()
            self._wake()
            if self._released and error is None:  # a lingering release saw the end in time
                self._conn.response = None
                self._conn.pool.pass_on(self._conn)


class _Connection(asyncio.Protocol):
    """One keep-alive connection, one exchange at a time; httptools calls the ``on_*`` methods."""

    def __init__(self, pool: Http1Pool, loop: asyncio.AbstractEventLoop) -> None:
        self.pool = pool
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.response: Response | None = None
        self.keep_alive = False
        self.closed = self.paused = self.interim = False
        self.idle_since = 0.0

    async def exchange(self, head: bytes, body: bytes, deadline: float) -> Response:
        """Send one request; return once the answer's head has arrived."""
        if self.closed or self.transport is None:
            raise ServerDisconnected("the connection closed before the request was sent")
        self.response = resp = Response(self, deadline)
        self.keep_alive = False
        self.transport.write(head + body)  # one write, one segment for the usual small request
        while not resp._head:
            if resp._error is not None:
                raise resp._error
            await resp._wait()
        return resp

    def expire(self, resp: Response) -> None:
        resp._finish(TimeoutError())
        self.abort()

    def abort(self) -> None:
        self.keep_alive = False
        if self.transport is not None and not self.closed:
            self.transport.abort()

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.close()

    def pause(self) -> None:
        if not self.paused and not self.closed and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()

    def resume(self) -> None:
        if self.paused and not self.closed and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):  # one write per request: no Nagle wait for its last segment
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        resp = self.response
        if resp is not None:
            if not resp._head:
                resp._finish(ServerDisconnected("the connection closed before the answer's head ended"))
            elif exc is None and "content-length" not in resp.headers and (
                    "chunked" not in resp.headers.get("transfer-encoding", "").lower()):
                resp._finish()  # a body delimited by the connection's close has ended
            else:
                resp._finish(IncompleteBody("the connection closed before the answer's body ended"))
        self.pool.forget(self)

    def data_received(self, data: bytes) -> None:
        resp = self.response
        if resp is None or resp._done:  # bytes nobody asked for: the connection cannot be trusted
            self.abort()
            return
        try:
            self.parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
            resp._finish(ProtocolError(f"the answer is not valid HTTP/1.1 ({type(exc).__name__})"))
            self.abort()

    # httptools callbacks

    def on_message_begin(self) -> None:
        if self.response is None or self.response._done:  # a second answer to one request
            raise ProtocolError("an answer nobody asked for")

    def on_header(self, name: bytes, value: bytes) -> None:
        headers = self.response.headers  # type: ignore[union-attr]
        key, text = name.decode("latin-1").lower(), value.decode("latin-1")
        prior = dict.get(headers, key)
        dict.__setitem__(headers, key, text if prior is None else f"{prior}, {text}")

    def on_headers_complete(self) -> None:
        resp = self.response
        assert resp is not None
        status = self.parser.get_status_code()
        if status < 200:  # an interim answer (100 Continue): its head is dropped, the real one follows
            self.interim = True
            resp.headers.clear()
            return
        resp.status = status
        resp._head = True
        self.keep_alive = self.parser.should_keep_alive()
        resp._wake()

    def on_body(self, body: bytes) -> None:
        self.response._feed(body)  # type: ignore[union-attr]

    def on_message_complete(self) -> None:
        if self.interim:
            self.interim = False
            return
        self.response._finish()  # type: ignore[union-attr]


class Http1Pool:
    """Keep-alive connections to one host and port: at most ``max_connections`` open; further
    requests wait, first come first served; idle connections are reused last-in first-out."""

    def __init__(self, host: str, port: int, *, max_connections: int, connect_timeout: float,
                 host_header: str | None = None, idle_timeout: float = IDLE_TIMEOUT_S) -> None:
        self.host, self.port = host, port
        self.host_header = host_header or (host if port == 80 else f"{host}:{port}")
        self.max_connections = max_connections
        self.connect_timeout = connect_timeout
        self.idle_timeout = idle_timeout
        self.closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle: list[_Connection] = []  # oldest first
        self._conns: set[_Connection] = set()
        self._open = 0  # connections open or opening: what counts against the limit
        self._waiters: collections.deque[asyncio.Future[_Connection | None]] = collections.deque()
        self._sweeper: asyncio.TimerHandle | None = None

    async def request(self, target: str, headers: Mapping[str, str], body: bytes, timeout: float) -> Response:
        """POST ``body`` to ``target``; the answer once its head has arrived. ``timeout`` bounds
        everything up to the response's release. The caller must ``release()`` the response."""
        head = encode_head(target, self.host_header, headers, len(body))  # before any connection is taken
        if self.closed:
            raise HttpError("the connection pool is closed")
        loop = self._loop = self._loop or asyncio.get_running_loop()
        deadline = loop.time() + timeout
        conn = await self._acquire(loop, deadline)
        try:
            return await conn.exchange(head, body, deadline)
        except BaseException:
            if conn.response is not None:
                conn.response.release()  # not read to its end: the connection is closed
            else:
                conn.abort()
            raise

    async def _acquire(self, loop: asyncio.AbstractEventLoop, deadline: float) -> _Connection:
        while True:
            idle = self._idle
            if idle:
                conn = idle.pop()
                if loop.time() - conn.idle_since <= self.idle_timeout:
                    return conn
                for stale in (*idle, conn):  # the rest are older still
                    stale.close()
                idle.clear()
            if self._open < self.max_connections and not self._waiters:
                self._open += 1
                return await self._connect(loop, deadline)
            waiter: asyncio.Future[_Connection | None] = loop.create_future()
            self._waiters.append(waiter)
            try:
                async with asyncio.timeout_at(deadline):
                    granted = await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                    self.pass_on(waiter.result())  # granted as we left: the next in line has it
                elif waiter in self._waiters:
                    self._waiters.remove(waiter)
                raise
            if granted is None:  # a free slot, reserved for this request
                return await self._connect(loop, deadline)
            if not granted.closed:
                return granted

    async def _connect(self, loop: asyncio.AbstractEventLoop, deadline: float) -> _Connection:
        """Open a connection in a slot already counted in ``_open`` (freed again on failure)."""
        try:
            async with asyncio.timeout_at(min(deadline, loop.time() + self.connect_timeout)):
                _, conn = await loop.create_connection(lambda: _Connection(self, loop), self.host, self.port)
        except BaseException as exc:
            self.pass_on(None)
            if isinstance(exc, OSError) and not isinstance(exc, TimeoutError):
                raise ConnectError(f"cannot connect to {self.host_header}: {exc.strerror or exc}") from None
            raise
        if conn.closed or self.closed:
            conn.abort()
            self.pass_on(None)
            raise ServerDisconnected("the connection closed as it opened")
        self._conns.add(conn)
        return conn

    def pass_on(self, conn: _Connection | None) -> None:
        """A connection (or, for None, a slot) is free: to the first waiter, else idle (or uncounted)."""
        if conn is not None and (conn.closed or self.closed):
            conn.close()
            return  # its slot is freed when its close is seen (``forget``)
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        if conn is None:
            self._open -= 1
            return
        loop = conn.loop
        conn.idle_since = loop.time()
        self._idle.append(conn)
        if self._sweeper is None:
            self._sweeper = loop.call_at(conn.idle_since + self.idle_timeout, self._sweep)

    def forget(self, conn: _Connection) -> None:
        """The connection has closed (either side): out of the pool, its slot free."""
        if conn not in self._conns:
            return
        self._conns.discard(conn)
        if conn in self._idle:
            self._idle.remove(conn)
        self.pass_on(None)

    def _sweep(self) -> None:
        self._sweeper = None
        if not self._idle:
            return
        loop = self._idle[0].loop
        cutoff = loop.time() - self.idle_timeout
        while self._idle and self._idle[0].idle_since <= cutoff:
            self._idle.pop(0).close()
        if self._idle:
            self._sweeper = loop.call_at(self._idle[0].idle_since + self.idle_timeout, self._sweep)

    async def aclose(self) -> None:
        """Close every connection, idle or busy (their answers fail), and fail every waiter."""
        self.closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(HttpError("the connection pool is closed"))
        self._idle.clear()
        for conn in list(self._conns):
            conn.abort()
        if self._conns:
            await asyncio.sleep(0)  # the transports report their close on the next loop iteration
