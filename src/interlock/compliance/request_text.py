"""Where text lives in a request body: every string, number and object key an upstream would receive.

The walk is generic: it reads the body that is sent (OpenAI or Anthropic shape) and lists no
fields, so tool descriptions and enums, ``metadata``, ``prediction``, ``stop``, ``tool_choice``,
identifiers, image URLs, file names and any field a wire format adds later are all scanned. Only
two things are passed over: base64 payloads (an encoded image, audio clip or file; the text inside
cannot be read as text) and object keys that are wire-format field names (``role``, ``content``).
Message context (index, role, and whether a text is prose, tool arguments or a tool result) is
kept for the report and for redaction, which may put a placeholder in place of a number only
inside tool inputs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from typing import Any

from interlock.compliance.detection import KeyName, Location
from interlock.compliance.wire_names import WIRE_NAMES

Path = tuple[str | int | KeyName, ...]

# Part types (and message keys) whose contents are tool traffic rather than prose.
_TOOL_CALL_MARKERS = frozenset({"tool_calls", "function_call", "tool_use"})
_TOOL_RESULT_MARKERS = frozenset({"tool_result", "function_call_output"})
# Top-level lists of conversation items: each item is a message with a role.
_ITEM_LISTS = frozenset({"messages", "input"})
# A long run of the base64 alphabet with no space is an encoded payload, not prose; nothing a
# recognizer could find survives inside it (every pattern needs a boundary or a separator).
_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]+|[A-Za-z0-9_-]+)={0,2}")
_BASE64_MIN = 256
_DATA_URL = re.compile(r"data:[\w.+-]+/[\w.+-]+(?:;[\w.+-]+=[\w.+-]+)*;base64,")


# One scannable text: its path, its message context, its form ("string", "number", "key") and text.
Leaf = tuple[Path, "TextContext", str, str]


def iter_texts(request: Mapping[str, Any]) -> Iterator[tuple[Location, str]]:
    """Every scannable string, number and object key of the body, with its location, in a stable order.

    Numbers are yielded as their decimal text (a card number sent as a JSON number is still a card
    number; an integral float reads as the integer it is).
    """
    for path, ctx, form, text in collect_texts(request):
        yield ctx.at(path, form), text


def collect_texts(request: Mapping[str, Any]) -> list[Leaf]:
    """``iter_texts`` without building a ``Location`` per text: the scanner makes one only where it
    finds something. A plain recursive walk into a list: cheaper than nested generators."""
    out: list[Leaf] = []
    for key, node in request.items():
        if not isinstance(key, str):
            continue
        if key not in WIRE_NAMES:
            out.append(((KeyName(key),), _TOP, "key", key))
        if key in _ITEM_LISTS and isinstance(node, list):
            for index, item in enumerate(node):
                role = item.get("role") if isinstance(item, Mapping) else None
                role = role if isinstance(role, str) else None
                field = "tool_result" if role in ("tool", "function") else "content"
                _walk(item, (key, index), TextContext(index, role, field), out)
        else:
            _walk(node, (key,), TextContext(None, None, key if key in WIRE_NAMES else "other"), out)
    return out


class TextContext:
    """The message a text belongs to and what kind of field holds it; shared by the texts of a message."""

    __slots__ = ("message_index", "role", "field")

    def __init__(self, message_index: int | None, role: str | None, field: str) -> None:
        self.message_index = message_index
        self.role = role
        self.field = field

    def entering(self, field: str) -> TextContext:
        return self if field == self.field else TextContext(self.message_index, self.role, field)

    def at(self, path: Path, form: str = "string") -> Location:
        return Location(path, self.message_index, self.role, self.field, form)  # type: ignore[arg-type]


_TOP = TextContext(None, None, "other")


def _walk(root: Any, root_path: Path, root_ctx: TextContext, out: list[Leaf]) -> None:
    """Depth-first, in document order, with an explicit stack: a deeply nested body cannot exhaust
    the interpreter's recursion limit here. An object key comes just before its value."""
    stack: list[tuple[Any, Path, TextContext, bool]] = [(root, root_path, root_ctx, False)]
    pop, push, emit = stack.pop, stack.append, out.append
    while stack:
        node, path, ctx, is_key = pop()
        kind = type(node)  # exact-type checks first: bodies are plain JSON, and this runs per value
        if is_key:
            emit((path, ctx, "key", node))
        elif kind is str or isinstance(node, str):
            if node and (len(node) < _BASE64_MIN and node[:5] != "data:" or not _is_encoded_payload(node)):
                emit((path, ctx, "string", node))
        elif kind is dict or isinstance(node, Mapping):
            part_type = node.get("type")
            if type(part_type) is str:  # any JSON may sit here ({"type": ["a"]} is not hashable)
                if part_type in _TOOL_CALL_MARKERS:
                    ctx = ctx.entering("tool_call_arguments")
                elif part_type in _TOOL_RESULT_MARKERS:
                    ctx = ctx.entering("tool_result")
            items = node.items() if kind is dict else list(node.items())
            for key, value in reversed(items):  # pushed last to first, so popped in order
                inner = ctx.entering("tool_call_arguments") if key in _TOOL_CALL_MARKERS else ctx
                push((value, path + (key,), inner, False))
                if key not in WIRE_NAMES and isinstance(key, str):
                    push((key, path + (KeyName(key),), ctx, True))
        elif kind is list or isinstance(node, list):
            for index in range(len(node) - 1, -1, -1):
                push((node[index], path + (index,), ctx, False))
        elif kind is int or kind is float or (isinstance(node, (int, float)) and not isinstance(node, bool)):
            text = number_text(node)
            if text:
                emit((path, ctx, "number", text))


def number_text(number: int | float) -> str:
    """The decimal text a recognizer should read for a JSON number ('' for NaN and infinities)."""
    if isinstance(number, int):
        return str(number)
    if not math.isfinite(number):
        return ""
    if number.is_integer() and abs(number) < 1e21:
        return str(int(number))  # 4111111111111111.0 is read as the card number it carries
    return repr(number)


def _is_encoded_payload(text: str) -> bool:
    if text.startswith("data:"):
        header = _DATA_URL.match(text)
        return header is not None and _BASE64.fullmatch(text, header.end()) is not None
    return len(text) >= _BASE64_MIN and _BASE64.fullmatch(text) is not None and _mixed(text)


def _mixed(text: str) -> bool:
    """Base64 of real bytes mixes upper case, lower case and digits; a digit run or a word does not."""
    sample = text[:_BASE64_MIN]
    return any(c.isupper() for c in sample) and any(c.islower() for c in sample) and any(
        c.isdigit() for c in sample
    )


def replace_texts(request: Mapping[str, Any], replacements: Mapping[Path, str]) -> dict[str, Any]:
    """A copy of ``request`` with the value at each path replaced; the original is untouched.

    Only the objects and lists on the way to a replaced value are copied; the rest is shared, as
    nothing downstream edits a request body in place.
    """
    out: dict[str, Any] = dict(request)
    copied: dict[Path, Any] = {(): out}
    for path, text in replacements.items():
        if any(isinstance(step, KeyName) for step in path):
            raise ValueError("an object key cannot be replaced in place")
        parent: Any = out
        for depth in range(1, len(path)):
            prefix = path[:depth]
            child = copied.get(prefix)
            if child is None:
                original = parent[path[depth - 1]]
                child = dict(original) if isinstance(original, Mapping) else list(original)
                parent[path[depth - 1]] = child
                copied[prefix] = child
            parent = child
        parent[path[-1]] = text
    return out
