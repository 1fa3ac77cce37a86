"""The clients the benchmark compares: interlock's UpstreamClient and a knob-by-knob aiohttp session.

Each client has ``post(i)`` (a JSON answer), ``stream(i)`` (the number of SSE events read) and
``aclose()``; interlock is imported from the tree the worker process was started on.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson
from multidict import CIMultiDict
from workload import BODY, PATH, STREAM_BODY, call_headers
from yarl import URL


class ProductClient:
    """interlock's UpstreamClient, as the providers call it. With ``via_aiohttp`` its plain-http
    transport is switched off, so this ``http://`` mock is reached the way ``https://`` upstreams
    are (through aiohttp): the cost of that path in the same tree."""

    def __init__(self, base: str, via_aiohttp: bool = False) -> None:
        from interlock.config.deployments import Timeouts
        from interlock.providers.http_client import UpstreamClient
        from interlock.providers.sse import SseReader

        self.client = UpstreamClient("bench", base, {}, Timeouts(), max_connections=100)
        if via_aiohttp:
            self.client._plain = None  # what an https:// base URL gives
        self.sse_reader = SseReader

    async def post(self, i: int) -> Any:
        return await self.client.post_json(PATH, BODY, call_headers(i))

    async def stream(self, i: int) -> int:
        n = 0
        async with self.client.open_sse(PATH, STREAM_BODY, call_headers(i)) as sse:
            while (events := await sse.read()) is not None:
                n += len(events)
        return n

    async def parse(self, i: int) -> int:
        """The SSE reading alone, no network: a streamed answer's events, a read per event (tokens
        arriving one by one, as from a real model)."""
        n = 0
        sse = self.sse_reader(_CannedBody(SSE_READS))
        while (events := await sse.read()) is not None:
            n += len(events)
        return n

    async def aclose(self) -> None:
        await self.client.aclose()


def _sse_reads() -> list[bytes]:
    """The mock's streamed answer: role, 16 content chunks, finish, usage, [DONE]."""
    base = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1700000000,
            "model": "bench-upstream"}
    deltas = [{"role": "assistant", "content": ""}] + [{"content": f" word{i}"} for i in range(16)] + [{}]
    chunks: list[dict[str, Any]] = [
        {**base, "choices": [{"index": 0, "delta": d, "logprobs": None,
                              "finish_reason": None if d else "stop"}]}
        for d in deltas]
    usage = {"prompt_tokens": 24, "completion_tokens": 16, "total_tokens": 40}
    chunks.append({**base, "choices": [], "usage": usage})
    return [b"data: " + orjson.dumps(c) + b"\n\n" for c in chunks] + [b"data: [DONE]\n\n"]


SSE_READS = _sse_reads()


class _CannedBody:
    """What ``aiohttp.StreamReader.readany`` would return for these reads, then the end."""

    def __init__(self, reads: list[bytes]) -> None:
        self.reads = iter(reads)

    async def readany(self) -> bytes:
        return next(self.reads, b"")


KNOBS = ("url", "jar", "headers", "timeout", "bufsize")


class AiohttpClient:
    """A plain aiohttp session with a chosen set of knobs; the same checks as UpstreamClient.

    url      a yarl.URL parsed once per path instead of a string joined and parsed per call
    jar      DummyCookieJar: no cookie filtering per request, no cookie storing per response
    headers  the fixed headers in a CIMultiDict built once; per call only a copy plus two entries
    timeout  the session's ClientTimeout reused (no ClientTimeout object per call, for streams)
    bufsize  read_bufsize 2**18 instead of aiohttp's 2**16
    """

    def __init__(self, base: str, knobs: frozenset[str]) -> None:
        self.knobs = knobs
        self.base = base
        self.timeout = aiohttp.ClientTimeout(total=301.0, sock_connect=5.0)
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=100, ttl_dns_cache=300),
            timeout=self.timeout,
            cookie_jar=aiohttp.DummyCookieJar() if "jar" in knobs else None,
            read_bufsize=2**18 if "bufsize" in knobs else 2**16,
            auto_decompress=True,
        )
        from interlock.providers.sse import SseReader

        self.sse_reader = SseReader  # this tree's, as the providers read streams
        self.url = URL(base + PATH)
        self.fixed = CIMultiDict({"content-type": "application/json"})

    def _args(self, i: int, stream: bool) -> tuple[Any, Any, dict[str, Any]]:
        url = self.url if "url" in self.knobs else self.base + PATH
        if "headers" in self.knobs:
            headers: Any = self.fixed.copy()
            headers.update(call_headers(i))
        else:
            headers = {"content-type": "application/json", **call_headers(i)}
        extra: dict[str, Any] = {}
        if stream and "timeout" not in self.knobs:
            extra["timeout"] = aiohttp.ClientTimeout(total=301.0, sock_connect=5.0)
        return url, headers, extra

    async def post(self, i: int) -> Any:
        url, headers, extra = self._args(i, False)
        async with self.session.post(url, data=orjson.dumps(BODY), headers=headers, **extra) as resp:
            raw = await resp.read()
            if resp.status >= 400 or resp.content_type != "application/json":
                raise RuntimeError(resp.status)
            return orjson.loads(raw)

    async def stream(self, i: int) -> int:
        url, headers, extra = self._args(i, True)
        resp = await self.session.post(url, data=orjson.dumps(STREAM_BODY), headers=headers, **extra)
        try:
            if resp.status >= 400 or resp.content_type != "text/event-stream":
                raise RuntimeError(resp.status)
            sse, n = self.sse_reader(resp.content), 0
            while (events := await sse.read()) is not None:
                n += len(events)
            return n
        finally:
            resp.release()

    async def aclose(self) -> None:
        await self.session.close()
