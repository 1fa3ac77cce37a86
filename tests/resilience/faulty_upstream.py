"""A fault-injecting OpenAI-format upstream on 127.0.0.1 (aiohttp, in the test's event loop).

The fault is chosen per request by the ``x-fault`` header or else by the requested model id,
as a query string: ``fault=<kind>&<param>=<value>``. Kinds:

    ok                          a normal answer (also when no fault is given)
    delay     seconds=S         answer after S seconds
    hang                        never answer (until the client goes away)
    status    code=N [retry_after=S]   an OpenAI error body with status N (and Retry-After)
    reset                       reset the TCP connection before answering
    cut       after=K           streams: K chunks then a reset; otherwise: a truncated body
    malformed after=K           a body (or the K+1th stream event) that is not JSON
    wrong_type                  200 with text/html
    flaky     rate=R            fail with 500 for a seeded R share of requests

``times=N`` applies the fault to the first N requests carrying that spec, then answers normally.
"""

from __future__ import annotations

import asyncio
import random
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import orjson
from aiohttp import web


@dataclass
class FaultyUpstream:
    seed: int = 0
    requests: list[tuple[str, bool]] = field(default_factory=list)
    disconnected: int = 0
    seen: dict[str, int] = field(default_factory=dict)
    url: str = ""
    _runner: web.AppRunner | None = None

    async def start(self) -> str:
        self._rng = random.Random(self.seed)
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.chat)
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def count(self, spec: str) -> int:
        return sum(1 for s, _ in self.requests if s == spec)

    async def chat(self, request: web.Request) -> web.StreamResponse:
        body = orjson.loads(await request.read())
        spec = request.headers.get("x-fault") or str(body.get("model", ""))
        streaming = bool(body.get("stream"))
        self.requests.append((spec, streaming))
        params = {k: v[0] for k, v in parse_qs(spec).items()}
        self.seen[spec] = self.seen.get(spec, 0) + 1
        kind = params.get("fault", "ok")
        if "times" in params and self.seen[spec] > int(params["times"]):
            kind = "ok"
        try:
            return await self._answer(request, kind, params, body, streaming)
        except asyncio.CancelledError:
            self.disconnected += 1
            raise
        except ConnectionResetError:  # the client went away while we were writing
            self.disconnected += 1
            return web.Response(status=499)

    async def _answer(
        self, request: web.Request, kind: str, params: dict[str, str], body: dict[str, Any], streaming: bool
    ) -> web.StreamResponse:
        after = int(params.get("after", 0))
        if kind == "delay":
            await asyncio.sleep(float(params["seconds"]))
        elif kind == "hang":
            await asyncio.Event().wait()
        elif kind == "status" or (kind == "flaky" and self._rng.random() < float(params["rate"])):
            code = int(params.get("code", 500))
            headers = {"retry-after": params["retry_after"]} if "retry_after" in params else None
            error = {"error": {"message": f"injected {code}", "type": "server_error", "code": None}}
            return web.json_response(error, status=code, headers=headers)
        elif kind == "reset":
            return _reset(request)
        elif kind == "wrong_type":
            return web.Response(body=b"<html>bad gateway</html>", content_type="text/html")
        elif kind == "malformed" and not streaming:
            return web.Response(body=b'{"choices": [', content_type="application/json")
        elif kind == "cut" and not streaming:
            resp = web.StreamResponse(headers={"content-length": "4096", "content-type": "application/json"})
            await resp.prepare(request)
            await resp.write(b'{"id": "x", "choices": [')
            return _reset(request, resp)
        if streaming:
            return await self._stream(
                request,
                body,
                cut_after=after if kind == "cut" else None,
                malformed_after=after if kind == "malformed" else None,
            )
        return web.json_response(_completion(body))

    async def _stream(
        self, request: web.Request, body: dict[str, Any], cut_after: int | None, malformed_after: int | None
    ) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        words = ["served", "by", str(body.get("model", ""))]
        for i, word in enumerate(words):
            if cut_after is not None and i == cut_after:
                return _reset(request, resp)
            if malformed_after is not None and i == malformed_after:
                await resp.write(b"data: {not json\n\n")
                return resp
            finish = "stop" if i == len(words) - 1 else None
            await resp.write(_event(body, {"content": word + " "}, finish))
        if (body.get("stream_options") or {}).get("include_usage"):
            usage = {"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6}
            await resp.write(
                b"data: " + orjson.dumps({**_base(body), "choices": [], "usage": usage}) + b"\n\n"
            )
        await resp.write(b"data: [DONE]\n\n")
        return resp


def _reset(request: web.Request, resp: web.StreamResponse | None = None) -> web.StreamResponse:
    """Abort the connection with a TCP reset (linger 0), mid-response if one was started."""
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    return resp or web.Response(status=500)


def _base(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fault",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model", ""),
    }


def _event(body: dict[str, Any], delta: dict[str, Any], finish: str | None) -> bytes:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return b"data: " + orjson.dumps({**_base(body), "choices": [choice]}) + b"\n\n"


def _completion(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fault",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", ""),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": f"served by {body.get('model')}"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6},
    }
