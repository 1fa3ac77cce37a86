"""The record of how one request was served: every attempt, what was skipped, and the headers.

The gateway turns an ``AttemptReport`` into ``x-interlock-attempts`` (every attempt, in order)
and ``x-interlock-fallback`` (present only when the request was not served by its first choice).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from interlock.errors import UpstreamHTTPError
from interlock.resilience.failures import Outcome, error_code, outcome_of


@dataclass(frozen=True, slots=True)
class Attempt:
    """One call to one deployment. ``latency_s`` is to the first chunk for streams, else the whole call."""

    deployment: str
    outcome: Outcome
    latency_s: float
    error_code: str | None = None
    upstream_status: int | None = None
    try_number: int = 1
    hedge: bool = False
    message: str = ""
    # wall-clock time the attempt was recorded, i.e. when it ended: traces place it at end - latency
    ended_unix_ns: int = field(default_factory=time.time_ns, compare=False)

    @classmethod
    def failed(
        cls,
        deployment: str,
        exc: BaseException,
        latency_s: float,
        *,
        try_number: int = 1,
        hedge: bool = False,
    ) -> Attempt:
        return cls(
            deployment=deployment,
            outcome=outcome_of(exc),
            latency_s=latency_s,
            error_code=error_code(exc),
            upstream_status=exc.upstream_status if isinstance(exc, UpstreamHTTPError) else None,
            try_number=try_number,
            hedge=hedge,
            message=str(exc),
        )

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        del out["ended_unix_ns"]  # a tracing detail, not part of the report clients and the audit see
        return out

    def header_item(self) -> str:
        item = f"{self.deployment};outcome={self.outcome.value};ms={round(self.latency_s * 1000)}"
        if self.error_code:
            item += f";code={self.error_code}"
        return item + ";hedge" if self.hedge else item


@dataclass(slots=True)
class AttemptReport:
    planned: list[str] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    served_by: str | None = None
    stream_error: str | None = None
    chunks_delivered: int = 0

    def add(self, attempt: Attempt) -> None:
        self.attempts.append(attempt)
        if attempt.outcome is Outcome.OK:
            self.served_by = attempt.deployment

    @property
    def first_choice(self) -> str | None:
        if not self.skipped:
            return self.planned[0] if self.planned else None
        skipped = {n for n, _ in self.skipped}
        return next((name for name in self.planned if name not in skipped), None)

    @property
    def fell_back(self) -> bool:
        return self.served_by is not None and self.served_by != self.first_choice

    def fallback_reason(self) -> str | None:
        """Why the first choice did not serve: its last failure's code (or outcome)."""
        if not self.fell_back:
            return None
        for attempt in reversed(self.attempts):
            if attempt.deployment == self.first_choice and attempt.outcome is not Outcome.OK:
                return attempt.error_code or attempt.outcome.value
        return None

    def headers(self) -> dict[str, str]:
        out = {"x-interlock-attempts": ", ".join(a.header_item() for a in self.attempts)}
        if self.fell_back:
            out["x-interlock-fallback"] = f"from={self.first_choice}; reason={self.fallback_reason()}"
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "planned": self.planned,
            "attempts": [a.to_dict() for a in self.attempts],
            "skipped": [{"deployment": n, "reason": r} for n, r in self.skipped],
            "served_by": self.served_by,
            "fell_back": self.fell_back,
            "stream_error": self.stream_error,
            "chunks_delivered": self.chunks_delivered,
        }
