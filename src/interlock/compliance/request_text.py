"""Where text lives in a chat request: finding every scannable string and rewriting some of them.

Covers OpenAI chat messages of every role (content as a string or a list of parts, tool call
arguments, tool results, legacy ``function_call``), Anthropic-style ``system``/``tool_use``/
``tool_result`` blocks, Responses-API ``input`` items, and the top-level ``prompt``/``instructions``/
``user`` fields. Unknown fields inside a message are scanned too: skipping a new field would fail open.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

from interlock.compliance.detection import Location

Path = tuple[str | int, ...]

# Top-level fields that carry text from the user or about them; the rest are parameters.
_TOP_LEVEL_TEXT = ("system", "instructions", "prompt", "input", "user")
# Inside messages and content parts: identifiers, enums and binary payloads, not prose.
_STRUCTURAL_KEYS = frozenset(
    {
        "role",
        "type",
        "id",
        "tool_call_id",
        "tool_use_id",
        "call_id",
        "image_url",
        "input_audio",
        "file",
        "cache_control",
        "signature",
        "media_type",
        "detail",
        "format",
        "annotations",
        "audio",
    }
)
# Part types (and message keys) whose contents are tool traffic rather than prose.
_TOOL_CALL_MARKERS = frozenset({"tool_calls", "function_call", "tool_use"})
_TOOL_RESULT_MARKERS = frozenset({"tool_result", "function_call_output"})


def iter_texts(request: Mapping[str, Any]) -> Iterator[tuple[Location, str]]:
    """Every scannable string in the request, with its location, in a stable order.

    Numbers inside tool inputs are yielded as their decimal text: a card number sent as a JSON
    number is still a card number.
    """
    messages = request.get("messages")
    if isinstance(messages, list):
        yield from _walk_items(messages, ("messages",))
    for key in _TOP_LEVEL_TEXT:
        if key not in request:
            continue
        node = request[key]
        if key == "input" and isinstance(node, list):
            yield from _walk_items(node, ("input",))
        else:
            yield from _walk(node, (key,), _Context(None, None, key, structural=True))


class _Context:
    __slots__ = ("message_index", "role", "field", "structural")

    def __init__(self, message_index: int | None, role: str | None, field: str, *, structural: bool) -> None:
        self.message_index = message_index
        self.role = role
        self.field = field
        self.structural = structural

    def entering(self, field: str | None = None, *, structural: bool | None = None) -> _Context:
        return _Context(
            self.message_index,
            self.role,
            field or self.field,
            structural=self.structural if structural is None else structural,
        )


def _walk_items(items: list[Any], path: Path) -> Iterator[tuple[Location, str]]:
    for index, item in enumerate(items):
        role = item.get("role") if isinstance(item, Mapping) else None
        role = role if isinstance(role, str) else None
        field = "tool_result" if role in ("tool", "function") else "content"
        yield from _walk(item, (*path, index), _Context(index, role, field, structural=True))


def _walk(node: Any, path: Path, ctx: _Context) -> Iterator[tuple[Location, str]]:
    if isinstance(node, str):
        if node:
            yield Location(path, ctx.message_index, ctx.role, ctx.field), node
    elif isinstance(node, Mapping):
        part_type = node.get("type")
        if part_type in _TOOL_CALL_MARKERS:
            ctx = ctx.entering("tool_call_arguments")
        elif part_type in _TOOL_RESULT_MARKERS:
            ctx = ctx.entering("tool_result")
        for key, value in node.items():
            if ctx.structural and key in _STRUCTURAL_KEYS:
                continue
            if key == "data" and part_type == "base64":
                continue  # an encoded image or PDF
            inner = ctx
            if key in _TOOL_CALL_MARKERS:
                inner = ctx.entering("tool_call_arguments")
            if isinstance(value, Mapping) and key in ("input", "arguments"):
                inner = inner.entering(structural=False)  # tool inputs: every leaf is caller data
            yield from _walk(value, (*path, key), inner)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _walk(item, (*path, index), ctx)
    elif isinstance(node, int) and not isinstance(node, bool) and not ctx.structural:
        yield Location(path, ctx.message_index, ctx.role, ctx.field), str(node)


def replace_texts(request: Mapping[str, Any], replacements: Mapping[Path, str]) -> dict[str, Any]:
    """A deep copy of ``request`` with the value at each path replaced; the original is untouched."""
    out: dict[str, Any] = copy.deepcopy(dict(request))
    for path, text in replacements.items():
        parent: Any = out
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = text
    return out
