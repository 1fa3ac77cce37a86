"""Turns an OpenAI-style ``messages`` list into the text the classifier reads, plus its views.

The classifier reads the system prompt and the user turns; assistant and tool turns say
nothing about the task being asked. The last user message carries the weight: it is always
kept whole (up to the view budgets), while system and earlier user text get small budgets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from interlock.errors import InvalidRequest

SYSTEM_ROLES = frozenset({"system", "developer"})
KNOWN_ROLES = SYSTEM_ROLES | {"user", "assistant", "tool", "function"}
TEXT_PART_TYPES = frozenset({"text", "input_text"})

# Budgets (characters) for the context placed in front of the last user message.
SYSTEM_BUDGET = 600
EARLIER_USER_BUDGET = 300

# View budgets: long prompts are mostly an embedded document; the task is stated near the
# start or the end, so the views keep the head and tail and drop the middle.
BODY_HEAD, BODY_TAIL = 600, 300
INSTRUCTION_HEAD, INSTRUCTION_TAIL = 250, 250

SHAPE_FEATURES = (
    "log_length",
    "log_lines",
    "non_ascii_share",
    "has_code_fence",
    "instruction_questions",
    "digit_share",
    "embedded_document",
    "very_short",
)


@dataclass(frozen=True, slots=True)
class PromptText:
    """The classifiable text of one request."""

    system: str
    earlier_user: str
    last_user: str

    def combined(self) -> str:
        """System head, then the tail of earlier user turns, then the whole last user message."""
        parts = [
            self.system[:SYSTEM_BUDGET].strip(),
            self.earlier_user[-EARLIER_USER_BUDGET:].strip(),
            self.last_user.strip(),
        ]
        return "\n\n".join(p for p in parts if p)


def prompt_text(messages: Any) -> PromptText:
    """Validate ``messages`` and collect its system and user text.

    Raises ``InvalidRequest`` (naming the bad field) when the list is malformed or holds no
    text to classify.
    """
    if not isinstance(messages, Sequence) or isinstance(messages, (str, bytes)) or not messages:
        raise InvalidRequest("'messages' must be a non-empty list of message objects", param="messages")
    system: list[str] = []
    users: list[str] = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise InvalidRequest(f"messages[{i}] must be an object", param=f"messages[{i}]")
        role = message.get("role")
        if role not in KNOWN_ROLES:
            raise InvalidRequest(
                f"messages[{i}].role must be one of {sorted(KNOWN_ROLES)}", param=f"messages[{i}].role"
            )
        if role in SYSTEM_ROLES:
            system.append(content_text(message.get("content"), f"messages[{i}].content"))
        elif role == "user":
            users.append(content_text(message.get("content"), f"messages[{i}].content"))
    if not users:
        raise InvalidRequest("'messages' must contain at least one user message", param="messages")
    text = PromptText(
        system="\n".join(s for s in system if s),
        earlier_user="\n".join(u for u in users[:-1] if u),
        last_user=users[-1],
    )
    if not text.combined():
        raise InvalidRequest(
            "the request has no text content to classify", param="messages", code="empty_content"
        )
    return text


def content_text(content: Any, path: str) -> str:
    """Text of one message's ``content``: a string, a list of parts, or null (tool-call turns)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise InvalidRequest(f"{path} must be a string or a list of content parts", param=path)
    texts: list[str] = []
    for j, part in enumerate(content):
        if not isinstance(part, dict) or not isinstance(part.get("type"), str):
            raise InvalidRequest(f"{path}[{j}] must be an object with a 'type'", param=f"{path}[{j}]")
        if part["type"] in TEXT_PART_TYPES:
            text = part.get("text")
            if not isinstance(text, str):
                raise InvalidRequest(f"{path}[{j}].text must be a string", param=f"{path}[{j}].text")
            texts.append(text)
    return "\n".join(texts)


def clip(text: str, head: int, tail: int) -> str:
    """Keep the first ``head`` and last ``tail`` characters of a long text."""
    if len(text) <= head + tail:
        return text
    return text[:head] + "\n" + text[-tail:]


def body_view(text: str) -> str:
    return clip(text, BODY_HEAD, BODY_TAIL)


def instruction_view(text: str) -> str:
    return clip(text, INSTRUCTION_HEAD, INSTRUCTION_TAIL)


def shape_features(text: str) -> list[float]:
    """Length and structure signals, each roughly on [0, 1], in ``SHAPE_FEATURES`` order.

    Counts over long texts use the body view so the cost stays bounded.
    """
    body = body_view(text)
    n = len(text)
    lines = text.count("\n", 0, 200_000) + 1
    size = max(len(body), 1)
    # Extra UTF-8 bytes per character: 0 for ASCII, about 2 for CJK; cheaper than a per-char loop.
    non_ascii = 0.0 if body.isascii() else (len(body.encode("utf-8")) - len(body)) / size
    digits = sum(map(str.isdigit, body)) / size
    questions = instruction_view(text).count("?")
    return [
        math.log1p(n) / 8.0,
        math.log1p(lines) / 5.0,
        min(non_ascii * 3.0, 1.0),
        float("```" in body),
        min(questions, 3) / 3.0,
        min(digits * 5.0, 1.0),
        float(n > 500 and lines >= 5),
        float(n < 60),
    ]
