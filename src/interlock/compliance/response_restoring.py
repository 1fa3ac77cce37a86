"""Putting redacted values back into OpenAI-shape answers: whole completions and stream chunks.

Message content and tool call names are restored as plain text (a tool named after a redacted
value is called by its placeholder); tool call arguments are JSON text, so values go back
JSON-escaped. In a stream each choice's content and each tool call's arguments has its own
``StreamRestorer``; what they hold back is released on that choice's ``finish_reason`` chunk.
"""

from __future__ import annotations

import copy

from interlock.compliance.redaction import Restorer, StreamRestorer
from interlock.types import JSON


def restore_completion(body: JSON, restorer: Restorer) -> JSON:
    """A copy of a ``chat.completion`` (or legacy ``text_completion``) body with values restored."""
    out = copy.deepcopy(body)
    for choice in out.get("choices") or []:
        if isinstance(choice.get("text"), str):
            choice["text"] = restorer.restore(choice["text"])
        message = choice.get("message")
        if not isinstance(message, dict):
            continue
        for key in ("content", "refusal", "reasoning_content"):
            if isinstance(message.get(key), str):
                message[key] = restorer.restore(message[key])
        for call in message.get("tool_calls") or []:
            function = call.get("function") or {}
            if isinstance(function.get("name"), str):
                function["name"] = restorer.restore(function["name"])
            if isinstance(function.get("arguments"), str):
                function["arguments"] = restorer.restore(function["arguments"], json_escaped=True)
    return out


class ChunkRestorer:
    """Restores the ``chat.completion.chunk`` dicts of one stream, in order."""

    def __init__(self, restorer: Restorer) -> None:
        self._restorer = restorer
        self._streams: dict[tuple[int, str, int], StreamRestorer] = {}
        self._last: JSON = {}

    def restore(self, chunk: JSON) -> JSON:
        out = copy.deepcopy(chunk)
        self._last = {k: v for k, v in chunk.items() if k != "choices"}
        for choice in out.get("choices") or []:
            index = int(choice.get("index", 0))
            delta = choice.get("delta")
            if isinstance(delta, dict):
                if isinstance(delta.get("content"), str):
                    delta["content"] = self._feed((index, "content", 0), delta["content"])
                for call in delta.get("tool_calls") or []:
                    function = call.get("function") or {}
                    if isinstance(function.get("name"), str):  # sent whole, in the call's first chunk
                        function["name"] = self._restorer.restore(function["name"])
                    if isinstance(function.get("arguments"), str):
                        key = (index, "arguments", int(call.get("index", 0)))
                        function["arguments"] = self._feed(key, function["arguments"])
            if choice.get("finish_reason") is not None:
                self._release(index, choice.setdefault("delta", {}))
        return out

    def flush(self) -> JSON | None:
        """A final chunk carrying whatever is still held (a stream that ended without finish_reason)."""
        indexes = sorted({key[0] for key, s in self._streams.items() if s.holding})
        if not indexes:
            return None
        choices = []
        for index in indexes:
            delta: JSON = {}
            self._release(index, delta)
            choices.append({"index": index, "delta": delta, "finish_reason": None})
        return {**self._last, "choices": choices}

    def _feed(self, key: tuple[int, str, int], text: str) -> str:
        stream = self._streams.get(key)
        if stream is None:
            stream = self._streams[key] = self._restorer.stream(json_escaped=key[1] == "arguments")
        return stream.feed(text)

    def _release(self, index: int, delta: JSON) -> None:
        for key in sorted(k for k in self._streams if k[0] == index):
            held = self._streams.pop(key).flush()
            if not held:
                continue
            if key[1] == "content":
                delta["content"] = (delta.get("content") or "") + held
                continue
            calls = delta.setdefault("tool_calls", [])
            call = next((c for c in calls if int(c.get("index", 0)) == key[2]), None)
            if call is None:
                call = {"index": key[2], "function": {"arguments": ""}}
                calls.append(call)
            function = call.setdefault("function", {})
            function["arguments"] = (function.get("arguments") or "") + held
