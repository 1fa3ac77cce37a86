"""The ledger's value types: one usage record per request, and aggregated spend rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from interlock.ids import new_id
from interlock.storage.database import as_datetime, utc_iso

GroupBy = Literal["team", "key", "route", "category", "model", "model_version", "deployment", "status"]

GROUP_COLUMNS: dict[str, str] = {
    "team": "team",
    "key": "key_id",
    "route": "route",
    "category": "category",
    "model": "model",
    "model_version": "model_version",
    "deployment": "deployment",
    "status": "status",
}
"""The only column names a query may group by (never taken from user text)."""


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """What one request used and cost. ``cost_usd`` is ``None`` when the price is unknown.

    ``status`` is ``ok`` or the error code the client received; ``config_hash`` ties the
    decision to the configuration that made it.
    """

    model: str
    request_id: str = field(default_factory=new_id)
    ts: datetime = field(default_factory=lambda: datetime.now(UTC))
    key_id: str | None = None
    team: str | None = None
    route: str | None = None
    category: str | None = None
    model_version: str | None = None
    deployment: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    usage_estimated: bool = False
    cost_usd: Decimal | None = None
    baseline_cost_usd: Decimal | None = None
    latency_ms: int | None = None
    attempts: int = 1
    decision_reason: str | None = None
    config_hash: str | None = None
    status: str = "ok"


RECORD_COLUMNS: tuple[str, ...] = (
    "ts",
    "request_id",
    "key_id",
    "team",
    "route",
    "category",
    "model",
    "model_version",
    "deployment",
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "usage_estimated",
    "cost_usd",
    "baseline_cost_usd",
    "latency_ms",
    "attempts",
    "decision_reason",
    "config_hash",
    "status",
)


WireRecord = tuple[Any, ...]
"""A ``UsageRecord`` as plain values in ``RECORD_COLUMNS`` order, ``ts`` as ``utc_iso`` text and money as
``str`` of its ``Decimal``: what the writer process is sent (a dataclass of ``datetime`` and ``Decimal``
costs several times more to pickle and unpickle). Lossless: ``record_from_wire`` gives the record back."""


def record_wire(r: UsageRecord) -> WireRecord:
    return (utc_iso(r.ts), r.request_id, r.key_id, r.team, r.route, r.category, r.model, r.model_version,
            r.deployment, r.prompt_tokens, r.completion_tokens, r.cached_tokens, r.usage_estimated,
            money_text(r.cost_usd), money_text(r.baseline_cost_usd), r.latency_ms, r.attempts,
            r.decision_reason, r.config_hash, r.status)


def record_from_wire(values: WireRecord) -> UsageRecord:
    """The record of a wire tuple (``ts`` comes back in UTC)."""
    fields = dict(zip(RECORD_COLUMNS, values, strict=True))
    fields["ts"] = as_datetime(fields["ts"])
    for name in ("cost_usd", "baseline_cost_usd"):
        fields[name] = money_value(fields[name])
    return UsageRecord(**fields)


def money_text(amount: Any) -> Any:
    """Money as it travels: a ``Decimal`` as its text; anything else as it is."""
    # only a Decimal becomes text: anything else travels as it is and fails (or not) as it would have
    return str(amount) if type(amount) is Decimal else amount


def money_value(sent: Any) -> Any:
    """A wire money value back as the ``Decimal`` it was (``Decimal(str(d))`` keeps digits and exponent)."""
    return Decimal(sent) if type(sent) is str else sent


@dataclass(frozen=True, slots=True)
class SpendRow:
    """Totals for one group (``group`` is ``None`` for ungrouped totals or a NULL column)."""

    group: str | None
    requests: int
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    cost_usd: Decimal
    baseline_cost_usd: Decimal
    savings_usd: Decimal
    unpriced_requests: int
    estimated_requests: int
    first_at: datetime | None
    last_at: datetime | None


@dataclass(frozen=True, slots=True)
class Projection:
    """A month of spend extrapolated from the recent run rate.

    The rate is measured over ``observed_days`` (from the first record in the lookback
    window, or the window start, to ``until``) and a month is 30.4375 days.
    """

    since: datetime
    until: datetime
    observed_days: Decimal
    requests: int
    cost_usd: Decimal
    baseline_cost_usd: Decimal
    unpriced_requests: int
    monthly_cost_usd: Decimal
    monthly_baseline_cost_usd: Decimal

    @property
    def monthly_savings_usd(self) -> Decimal:
        return self.monthly_baseline_cost_usd - self.monthly_cost_usd
