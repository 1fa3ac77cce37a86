"""A real OpenAI-wire-format server for tests (Starlette on 127.0.0.1).

Behaviour is chosen by the upstream model id the gateway sends (``fault-<kind>``) or by a
``FAULT:<kind>`` directive in the last user message: 500, 429, 400, slow, hang, malformed,
wrong-type, cut (stream cut mid-way), bad-usage and bad-choices (a 200 whose ``usage`` or
``choices`` has the wrong shape). Otherwise it echoes the last user message.
An upstream model id ``cached-<n>`` (opt-in) reports ``n`` of the prompt tokens as prompt-cache
reads (``usage.prompt_tokens_details.cached_tokens``); other ids report no cache details.
Every request body it receives is kept in ``received`` for assertions.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for m in reversed(messages):
        if m.get("role") == "user":
            c = m.get("content")
            if isinstance(c, list):
                return " ".join(p.get("text", "") for p in c if p.get("type") == "text")
            return str(c or "")
    return ""


def _fault(body: dict[str, Any]) -> str:
    model = str(body.get("model", ""))
    if model.startswith("fault-"):
        return model.removeprefix("fault-")
    text = _last_user_text(body.get("messages", []))
    if text.startswith("FAULT:"):
        return text.split()[0].removeprefix("FAULT:")
    return ""


def _cached_tokens(body: dict[str, Any]) -> int | None:
    model = str(body.get("model", ""))
    if model.startswith("cached-") and model.removeprefix("cached-").isdigit():
        return int(model.removeprefix("cached-"))
    return None


class OpenAIUpstream:
    def __init__(self, slow_seconds: float = 0.3) -> None:
        self.received: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.slow_seconds = slow_seconds
        self.app = Starlette(routes=[
            Route("/v1/chat/completions", self.chat, methods=["POST"]),
            Route("/v1/embeddings", self.embeddings, methods=["POST"]),
        ])

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        body = {"error": {"message": message, "type": "server_error" if status >= 500 else "invalid_request_error"}}
        return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)

    async def chat(self, request: Request) -> Response:
        body = orjson.loads(await request.body())
        self.received.append(body)
        self.headers.append(dict(request.headers))
        fault = _fault(body)
        if fault == "500":
            return self._error(500, "upstream exploded")
        if fault == "429":
            return self._error(429, "slow down", {"retry-after": "1"})
        if fault == "400":
            return self._error(400, "bad parameter foo")
        if fault == "slow":
            await asyncio.sleep(self.slow_seconds)
        if fault == "hang":
            await asyncio.sleep(3600)
        if fault == "malformed":
            return Response(b"{not json", media_type="application/json")
        if fault == "wrong-type":
            return Response(b"<html>proxy error</html>", media_type="text/html")
        text = "echo: " + _last_user_text(body.get("messages", []))
        usage = {"prompt_tokens": sum(len(str(m.get("content", "")).split()) for m in body["messages"]),
                 "completion_tokens": len(text.split())}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        if fault == "bad-usage":
            usage = {"prompt_tokens": "many", "completion_tokens": {"n": 3}}  # type: ignore[dict-item]
        cached = _cached_tokens(body)
        if cached is not None:
            usage["prompt_tokens_details"] = {"cached_tokens": min(cached, usage["prompt_tokens"])}
        message: dict[str, Any] = {"role": "assistant", "content": text}
        finish = "stop"
        if body.get("tools"):
            tool = body["tools"][0]["function"]["name"]
            message = {"role": "assistant", "content": None, "tool_calls": [{
                "id": "call_1", "type": "function",
                "function": {"name": tool, "arguments": orjson.dumps({"echo": text}).decode()}}]}
            finish = "tool_calls"
        if body.get("stream"):
            return StreamingResponse(self._stream(body, text, usage, fault), media_type="text/event-stream")
        n = int(body.get("n") or 1)
        choices: list[Any] = [{"index": i, "message": message, "finish_reason": finish, "logprobs": None}
                              for i in range(n)]
        if fault == "bad-choices":
            choices = ["not a choice", {"index": 1, "message": "not a message"}]
        return Response(orjson.dumps({
            "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
            "model": body["model"],
            "choices": choices,
            "usage": usage,
        }), media_type="application/json")

    async def _stream(self, body: dict[str, Any], text: str, usage: dict[str, int], fault: str) -> Any:
        base = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": int(time.time()), "model": body["model"]}

        def event(choices: list[Any], **extra: Any) -> bytes:
            return b"data: " + orjson.dumps({**base, "choices": choices, **extra}) + b"\n\n"

        yield event([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
        if fault == "bad-choices":
            yield event(["not a choice"])  # type: ignore[list-item]
        words = text.split(" ")
        for i, word in enumerate(words):
            if fault == "cut" and i == len(words) // 2:
                raise ConnectionResetError("cut mid-stream")  # the server drops the connection
            yield event([{"index": 0, "delta": {"content": (" " if i else "") + word}, "finish_reason": None}])
            await asyncio.sleep(0)
        yield event([{"index": 0, "delta": {}, "finish_reason": "stop"}])
        if (body.get("stream_options") or {}).get("include_usage"):
            yield event([], usage=usage)
        yield b"data: [DONE]\n\n"

    async def embeddings(self, request: Request) -> Response:
        body = orjson.loads(await request.body())
        self.received.append(body)
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [{"object": "embedding", "index": i, "embedding": [float(len(str(x))), 1.0, 0.5]} for i, x in enumerate(inputs)]
        return Response(orjson.dumps({"object": "list", "data": data, "model": body["model"],
                                      "usage": {"prompt_tokens": len(inputs), "total_tokens": len(inputs)}}),
                        media_type="application/json")
