"""Translation of chat responses between OpenAI and Anthropic Messages, whole and streamed, both ways.

Also the shared tables: stop reasons <-> finish reasons, Anthropic usage <-> OpenAI usage.
Requests are translated in ``anthropic_translate``.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import orjson

from interlock.errors import UpstreamMalformed
from interlock.ids import new_id
from interlock.types import JSON, Usage

STOP_REASON_TO_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
FINISH_TO_STOP_REASON = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}


def finish_reason(stop_reason: str | None) -> str | None:
    return None if stop_reason is None else STOP_REASON_TO_FINISH.get(stop_reason, "stop")


def stop_reason(finish: str | None, has_tool_calls: bool = False) -> str:
    # Some OpenAI-compatible servers report "stop" on a turn that ends in tool calls.
    return "tool_use" if has_tool_calls else FINISH_TO_STOP_REASON.get(finish or "stop", "end_turn")


def usage_from_anthropic(usage: JSON | None) -> Usage:
    """Anthropic's ``input_tokens`` leave out cache reads and writes; OpenAI's ``prompt_tokens`` hold them."""
    u = usage or {}
    cached = int(u.get("cache_read_input_tokens") or 0)
    written = int(u.get("cache_creation_input_tokens") or 0)
    return Usage(
        prompt_tokens=int(u.get("input_tokens") or 0) + cached + written,
        completion_tokens=int(u.get("output_tokens") or 0),
        cached_tokens=cached,
    )


def anthropic_usage(usage: JSON | None) -> JSON:
    u = Usage.from_openai(usage)
    return {
        "input_tokens": max(0, u.prompt_tokens - u.cached_tokens),
        "output_tokens": u.completion_tokens,
        "cache_read_input_tokens": u.cached_tokens,
        "cache_creation_input_tokens": 0,
    }


# ---- Anthropic response -> OpenAI response (the anthropic provider) ----


def openai_completion_from_anthropic(message: JSON, model: str) -> JSON:
    texts: list[str] = []
    calls: list[JSON] = []
    for block in message.get("content") or ():
        if block.get("type") == "text":
            texts.append(block.get("text") or "")
        elif block.get("type") == "tool_use":
            arguments = orjson.dumps(block.get("input") or {}).decode()
            calls.append({"id": block.get("id"), "type": "function",
                          "function": {"name": block.get("name"), "arguments": arguments}})
    reply: JSON = {"role": "assistant", "content": "".join(texts) if texts or not calls else None}
    if calls:
        reply["tool_calls"] = calls
    return {
        "id": message.get("id") or f"msg_{new_id()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": reply, "logprobs": None,
                     "finish_reason": finish_reason(message.get("stop_reason")) or "stop"}],
        "usage": usage_from_anthropic(message.get("usage")).to_openai(),
    }


# ---- OpenAI response -> Anthropic response (the inbound /v1/messages route) ----


def anthropic_message_from_openai(completion: JSON, model: str) -> JSON:
    choice = (completion.get("choices") or [{}])[0]
    reply = choice.get("message") or {}
    content: list[JSON] = []
    text = reply.get("content")
    if isinstance(text, list):
        text = "".join(p.get("text") or "" for p in text)
    if text:
        content.append({"type": "text", "text": text})
    calls = reply.get("tool_calls") or []
    content.extend(tool_use_block(call) for call in calls)
    return {
        "id": anthropic_message_id(completion.get("id")),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason(choice.get("finish_reason"), bool(calls)),
        "stop_sequence": None,
        "usage": anthropic_usage(completion.get("usage")),
    }


def anthropic_message_id(openai_id: Any) -> str:
    if isinstance(openai_id, str) and openai_id.startswith("msg_"):
        return openai_id
    return f"msg_{new_id()}"


def tool_use_block(call: JSON) -> JSON:
    fn = call.get("function") or {}
    raw = fn.get("arguments") or "{}"
    try:
        args = orjson.loads(raw)
    except orjson.JSONDecodeError:
        args = None
    if not isinstance(args, dict):
        name = fn.get("name")
        raise UpstreamMalformed(f"The model called tool {name!r} with arguments that are not a JSON object.")
    call_id = call.get("id") or f"toolu_{uuid.uuid4().hex[:24]}"
    return {"type": "tool_use", "id": call_id, "name": fn.get("name"), "input": args}


# ---- Anthropic events -> OpenAI chunks (the anthropic provider) ----


class OpenAIChunksFromAnthropic:
    """Turns one Anthropic event stream into OpenAI ``chat.completion.chunk`` dicts.

    ``error`` events are the caller's to raise; ``finished`` turns true at ``message_stop``.
    """

    def __init__(self, model: str, include_usage: bool) -> None:
        self.model = model
        self.include_usage = include_usage
        self.finished = False
        self._id = ""
        self._created = int(time.time())
        self._usage: JSON = {}
        self._tool_calls: dict[int, int] = {}  # content block index -> OpenAI tool call index

    @property
    def usage(self) -> Usage:
        return usage_from_anthropic(self._usage)

    def feed(self, event: str, data: JSON) -> list[JSON]:
        kind = data.get("type") or event
        if kind == "message_start":
            message = data.get("message") or {}
            self._id = message.get("id") or f"msg_{new_id()}"
            self._merge_usage(message.get("usage"))
            return [self._chunk({"role": "assistant", "content": ""})]
        if kind == "content_block_start":
            return self._block_start(int(data.get("index") or 0), data.get("content_block") or {})
        if kind == "content_block_delta":
            return self._block_delta(int(data.get("index") or 0), data.get("delta") or {})
        if kind == "message_delta":
            self._merge_usage(data.get("usage"))
            reason = (data.get("delta") or {}).get("stop_reason")
            return [self._chunk({}, finish_reason(reason))] if reason else []
        if kind == "message_stop":
            self.finished = True
            if self.include_usage:
                return [{**self._base(), "choices": [], "usage": self.usage.to_openai()}]
        return []  # ping, content_block_stop, and kinds this gateway does not know yet

    def _block_start(self, index: int, block: JSON) -> list[JSON]:
        if block.get("type") == "tool_use":
            k = self._tool_calls[index] = len(self._tool_calls)
            arguments = orjson.dumps(block["input"]).decode() if block.get("input") else ""
            call = {"index": k, "id": block.get("id"), "type": "function",
                    "function": {"name": block.get("name"), "arguments": arguments}}
            return [self._chunk({"tool_calls": [call]})]
        if block.get("type") == "text" and block.get("text"):
            return [self._chunk({"content": block["text"]})]
        return []  # thinking blocks are not relayed

    def _block_delta(self, index: int, delta: JSON) -> list[JSON]:
        if delta.get("type") == "text_delta" and delta.get("text"):
            return [self._chunk({"content": delta["text"]})]
        partial = delta.get("partial_json") if delta.get("type") == "input_json_delta" else None
        if partial and index in self._tool_calls:
            call = {"index": self._tool_calls[index], "function": {"arguments": partial}}
            return [self._chunk({"tool_calls": [call]})]
        return []

    def _merge_usage(self, usage: JSON | None) -> None:
        # message_delta counts are cumulative and may omit fields message_start had.
        self._usage.update({k: v for k, v in (usage or {}).items() if v is not None})

    def _base(self) -> JSON:
        return {"id": self._id, "object": "chat.completion.chunk", "created": self._created,
                "model": self.model}

    def _chunk(self, delta: JSON, finish: str | None = None) -> JSON:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return {**self._base(), "choices": [choice]}


# ---- OpenAI chunks -> Anthropic events (the inbound /v1/messages route) ----

Event = tuple[str, JSON]


class AnthropicEventsFromOpenAI:
    """Turns OpenAI chunks into Anthropic's event sequence, as ``(event name, data)`` pairs.

    message_start and ping; per content block start, deltas, stop; then at ``finish()``
    message_delta (stop reason and usage) and message_stop.
    """

    def __init__(self, model: str) -> None:
        self.model = model
        self._started = False
        self._open_block: int | None = None
        self._open_kind = ""
        self._blocks = 0
        self._tool_blocks: dict[int, int] = {}  # OpenAI tool call index -> content block index
        self._finish: str | None = None
        self._usage: JSON | None = None

    def feed(self, chunk: JSON) -> list[Event]:
        events = self._start(chunk.get("id"))
        if chunk.get("usage"):
            self._usage = chunk["usage"]
        for choice in chunk.get("choices") or ():
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            if delta.get("content"):
                if self._open_kind != "text":
                    events += self._open({"type": "text", "text": ""}, "text")
                events.append(_delta(self._open_block, {"type": "text_delta", "text": delta["content"]}))
            for call in delta.get("tool_calls") or ():
                events += self._tool_delta(call)
            if choice.get("finish_reason"):
                self._finish = choice["finish_reason"]
        return events

    def finish(self) -> list[Event]:
        events = self._start(None) + self._close()
        delta = {"stop_reason": stop_reason(self._finish, bool(self._tool_blocks)), "stop_sequence": None}
        usage = anthropic_usage(self._usage)
        events.append(("message_delta", {"type": "message_delta", "delta": delta, "usage": usage}))
        events.append(("message_stop", {"type": "message_stop"}))
        return events

    def _start(self, openai_id: Any) -> list[Event]:
        if self._started:
            return []
        self._started = True
        # Input tokens are known only at the end; message_delta carries them (clients take its counts).
        message: JSON = {"id": anthropic_message_id(openai_id), "type": "message", "role": "assistant",
                         "model": self.model, "content": [], "stop_reason": None, "stop_sequence": None,
                         "usage": {"input_tokens": 0, "output_tokens": 0}}
        return [("message_start", {"type": "message_start", "message": message}), ("ping", {"type": "ping"})]

    def _tool_delta(self, call: JSON) -> list[Event]:
        events: list[Event] = []
        k = int(call.get("index") or 0)
        fn = call.get("function") or {}
        if k not in self._tool_blocks:
            call_id = call.get("id") or f"toolu_{uuid.uuid4().hex[:24]}"
            block: JSON = {"type": "tool_use", "id": call_id, "name": fn.get("name") or "", "input": {}}
            events += self._open(block, "tool_use")
            self._tool_blocks[k] = self._blocks - 1
        if fn.get("arguments"):
            delta = {"type": "input_json_delta", "partial_json": fn["arguments"]}
            events.append(_delta(self._tool_blocks[k], delta))
        return events

    def _open(self, block: JSON, kind: str) -> list[Event]:
        events = self._close()
        self._open_block, self._open_kind = self._blocks, kind
        self._blocks += 1
        events.append(("content_block_start", {"type": "content_block_start", "index": self._open_block,
                                               "content_block": block}))
        return events

    def _close(self) -> list[Event]:
        if self._open_block is None:
            return []
        index, self._open_block, self._open_kind = self._open_block, None, ""
        return [("content_block_stop", {"type": "content_block_stop", "index": index})]


def _delta(index: int | None, delta: JSON) -> Event:
    return "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
