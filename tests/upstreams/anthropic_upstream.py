"""A real Anthropic-Messages-wire-format server for tests (Starlette on 127.0.0.1).

It checks requests the way the real API does (key, version header, required and unknown
fields, block types per role, alternating turns) and answers with Anthropic's error bodies.
Behaviour is chosen by the model id (``fault-<kind>``) or a ``FAULT:<kind>`` directive in the
last user message: 400, 429 (retry-after 2), 500, 529, slow, stream-error (an ``error`` event
mid-stream), cut (connection dropped mid-stream). Otherwise it echoes the last user text; with
tools it calls the first tool, and after tool results it answers with what the tools said.
Every request body and its headers are kept in ``received`` / ``headers``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

API_KEY = "sk-ant-test-key"
KEY_ENV = "INTERLOCK_TEST_ANTHROPIC_KEY"
_FIELDS = {"model", "messages", "max_tokens", "system", "metadata", "stop_sequences", "stream", "temperature",
           "top_p", "top_k", "tools", "tool_choice", "thinking", "service_tier"}
_BLOCKS = {
    "user": {"text", "image", "tool_result", "document"},
    "assistant": {"text", "tool_use", "thinking"},
}
JSON = dict[str, Any]


def anthropic_deployment(name: str, base_url: str, **over: Any) -> JSON:
    """Gateway config for an ``anthropic`` deployment served by this upstream at ``base_url``."""
    d: JSON = {
        "name": name, "type": "anthropic", "model": name, "vendor": "anthropic", "perimeter": "external",
        "context_window": 200_000, "base_url": base_url, "api_key_env": KEY_ENV, "default_max_tokens": 256,
        "capabilities": {"tools": True, "images": True},
        "price": {"input_per_mtok": 3.0, "output_per_mtok": 15.0, "cached_input_per_mtok": 0.3},
    }
    d.update(over)
    return d


class RequestProblem(Exception):
    pass


def _check(body: JSON) -> None:
    extra = sorted(set(body) - _FIELDS)
    if extra:
        raise RequestProblem(f"{extra[0]}: Extra inputs are not permitted")
    for name in ("model", "messages", "max_tokens"):
        if name not in body:
            raise RequestProblem(f"{name}: Field required")
    if not 0 <= body.get("temperature", 0) <= 1:
        raise RequestProblem("temperature: Input should be less than or equal to 1")
    system = body.get("system")
    if system is not None and not isinstance(system, str):
        if not all(b.get("type") == "text" and b.get("text") for b in system):
            raise RequestProblem("system: only non-empty text blocks are allowed")
    previous = None
    for i, m in enumerate(body["messages"]):
        if m.get("role") not in _BLOCKS or m["role"] == previous:
            raise RequestProblem(f"messages.{i}.role: roles must alternate between user and assistant")
        previous = m["role"]
        content = m.get("content")
        if isinstance(content, list):
            for j, block in enumerate(content):
                where = f"messages.{i}.content.{j}"
                if block.get("type") not in _BLOCKS[m["role"]]:
                    raise RequestProblem(f"{where}.type: not allowed in a {m['role']} message")
                if block["type"] == "text" and not block.get("text"):
                    raise RequestProblem(f"{where}.text: text content blocks must be non-empty")
        elif not isinstance(content, str):
            raise RequestProblem(f"messages.{i}.content: Input should be a valid string or list")


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    return " ".join(str(b.get("text", "")) for b in content or () if b.get("type") == "text")


def _answer(body: JSON) -> tuple[list[JSON], str, str | None]:
    """Content blocks, stop reason and matched stop sequence for a request."""
    last = body["messages"][-1]
    blocks = last["content"] if isinstance(last["content"], list) else []
    results = [b for b in blocks if b.get("type") == "tool_result"]
    if results:
        text = "tool said: " + " ".join(_text_of(r.get("content")) for r in results)
    elif body.get("tools") and (body.get("tool_choice") or {}).get("type") != "none":
        choice = body.get("tool_choice") or {}
        tool = choice["name"] if choice.get("type") == "tool" else body["tools"][0]["name"]
        echo = {"echo": _text_of(last["content"])}
        call = {"type": "tool_use", "id": "toolu_01", "name": tool, "input": echo}
        return [call], "tool_use", None
    else:
        text = "echo: " + _text_of(last["content"])
    for stop in body.get("stop_sequences") or ():
        if stop in text:
            return [{"type": "text", "text": text[: text.index(stop)]}], "stop_sequence", stop
    words = text.split(" ")
    if len(words) > body["max_tokens"]:
        return [{"type": "text", "text": " ".join(words[: body["max_tokens"]])}], "max_tokens", None
    return [{"type": "text", "text": text}], "end_turn", None


def _usage(body: JSON, content: list[JSON]) -> JSON:
    """Input words count as tokens; the system prompt's words are reported as read from the cache."""
    system = _text_of(body.get("system") or "") if isinstance(body.get("system"), (str, list)) else ""
    cached = len(system.split())
    prompt = sum(len(_text_of(m["content"]).split()) for m in body["messages"])
    out = sum(len(_text_of([b]).split()) if b["type"] == "text" else 5 for b in content)
    return {"input_tokens": prompt, "output_tokens": out, "cache_read_input_tokens": cached,
            "cache_creation_input_tokens": 0}


def _fault(body: JSON) -> str:
    model = str(body.get("model", ""))
    if model.startswith("fault-"):
        return model.removeprefix("fault-")
    text = _text_of(body["messages"][-1]["content"]) if body.get("messages") else ""
    return text.split()[0].removeprefix("FAULT:") if text.startswith("FAULT:") else ""


def _error(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> Response:
    body = {"type": "error", "error": {"type": kind, "message": message}}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def _delta(index: int, delta: JSON) -> JSON:
    return {"type": "content_block_delta", "index": index, "delta": delta}


def _sse(name: str, data: JSON) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


class AnthropicUpstream:
    def __init__(self, slow_seconds: float = 0.5) -> None:
        self.received: list[JSON] = []
        self.headers: list[dict[str, str]] = []
        self.slow_seconds = slow_seconds
        self.app = Starlette(routes=[Route("/v1/messages", self.messages, methods=["POST"])])

    async def messages(self, request: Request) -> Response:
        self.headers.append(dict(request.headers))
        if request.headers.get("x-api-key") != API_KEY:
            return _error(401, "authentication_error", "invalid x-api-key")
        if not request.headers.get("anthropic-version"):
            return _error(400, "invalid_request_error", "anthropic-version: header is required")
        body = orjson.loads(await request.body())
        self.received.append(body)
        try:
            _check(body)
        except RequestProblem as exc:
            return _error(400, "invalid_request_error", str(exc))
        fault = _fault(body)
        if fault == "400":
            return _error(400, "invalid_request_error", "messages: bad parameter foo")
        if fault == "429":
            return _error(429, "rate_limit_error", "Number of request tokens has exceeded your rate limit",
                          {"retry-after": "2"})
        if fault == "500":
            return _error(500, "api_error", "Internal server error")
        if fault == "529":
            return _error(529, "overloaded_error", "Overloaded")
        if fault == "slow":
            await asyncio.sleep(self.slow_seconds)
        content, stop_reason, stop_sequence = _answer(body)
        message = {"id": "msg_test01", "type": "message", "role": "assistant", "model": body["model"],
                   "content": content, "stop_reason": stop_reason, "stop_sequence": stop_sequence,
                   "usage": _usage(body, content)}
        if body.get("stream"):
            return StreamingResponse(self._stream(message, fault), media_type="text/event-stream")
        return Response(orjson.dumps(message), media_type="application/json")

    async def _stream(self, message: JSON, fault: str) -> AsyncIterator[bytes]:
        usage = message["usage"]
        start = {**message, "content": [], "stop_reason": None, "stop_sequence": None,
                 "usage": {**usage, "output_tokens": 1}}
        yield _sse("message_start", {"type": "message_start", "message": start})
        yield _sse("ping", {"type": "ping"})
        for index, block in enumerate(message["content"]):
            if block["type"] == "text":
                yield _sse("content_block_start", {"type": "content_block_start", "index": index,
                                                   "content_block": {"type": "text", "text": ""}})
                words = block["text"].split(" ")
                for i, word in enumerate(words):
                    if i == len(words) // 2 and fault in ("cut", "stream-error"):
                        if fault == "cut":
                            raise ConnectionResetError("cut mid-stream")  # the server drops the connection
                        error = {"type": "overloaded_error", "message": "Overloaded"}
                        yield _sse("error", {"type": "error", "error": error})
                        return
                    delta = {"type": "text_delta", "text": (" " if i else "") + word}
                    yield _sse("content_block_delta", _delta(index, delta))
                    await asyncio.sleep(0)
            else:
                yield _sse("content_block_start", {"type": "content_block_start", "index": index,
                                                   "content_block": {**block, "input": {}}})
                raw = orjson.dumps(block["input"]).decode()
                for piece in ("", raw[:5], raw[5:]):
                    delta = {"type": "input_json_delta", "partial_json": piece}
                    yield _sse("content_block_delta", _delta(index, delta))
            yield _sse("content_block_stop", {"type": "content_block_stop", "index": index})
        delta = {"stop_reason": message["stop_reason"], "stop_sequence": message["stop_sequence"]}
        yield _sse("message_delta", {"type": "message_delta", "delta": delta,
                                     "usage": {"output_tokens": usage["output_tokens"]}})
        yield _sse("message_stop", {"type": "message_stop"})
