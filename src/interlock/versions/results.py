"""What a shadow comparison records: each side's answer, latency, tokens and cost, and the store seam."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

import orjson

from interlock.types import JSON, Usage


def completion_text(response: JSON) -> str:
    """The answer in an OpenAI ``chat.completion``: message texts, then tool calls as canonical JSON."""
    parts: list[str] = []
    for choice in response.get("choices") or ():
        message = choice.get("message") or {}
        if message.get("content"):
            parts.append(str(message["content"]))
        calls = [c.get("function") for c in message.get("tool_calls") or ()]
        if calls:
            parts.append(orjson.dumps(calls, option=orjson.OPT_SORT_KEYS).decode())
    return "\n".join(parts)


@dataclass(frozen=True, slots=True)
class SideOutcome:
    """One side of a comparison (the primary that answered the client, or the shadow)."""

    model: str
    deployment: str | None
    text: str | None
    latency_ms: int | None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: Decimal | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @classmethod
    def answered(
        cls,
        model: str,
        deployment: str | None,
        text: str,
        latency_s: float,
        usage: Usage | None = None,
        cost_usd: Decimal | None = None,
    ) -> SideOutcome:
        return cls(
            model,
            deployment,
            text,
            round(latency_s * 1000),
            usage.prompt_tokens if usage else None,
            usage.completion_tokens if usage else None,
            cost_usd,
        )

    @classmethod
    def failed(
        cls, model: str, deployment: str | None, error: str, latency_s: float | None = None
    ) -> SideOutcome:
        latency = round(latency_s * 1000) if latency_s is not None else None
        return cls(model, deployment, None, latency, error=error)


@dataclass(frozen=True, slots=True)
class ShadowResult:
    alias: str
    request_id: str
    ts: datetime
    primary: SideOutcome
    shadow: SideOutcome
    config_hash: str | None = None


class ShadowStore(Protocol):
    """Where shadow comparisons go; ``add`` is called from a worker thread, never the event loop."""

    def add(self, result: ShadowResult) -> None: ...

    def results(
        self, alias: str, *, since: datetime | None = None, limit: int | None = None
    ) -> list[ShadowResult]:
        """Newest first."""
        ...

    def aliases(self) -> dict[str, int]:
        """Every alias with stored results, and how many."""
        ...
