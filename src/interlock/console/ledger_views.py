"""What the console reads from the ledger: the hourly rollup for totals and series, and the newest records.

Every query names a dimension of ``usage_hourly`` (never user text) and a window of hours, so it
touches a few thousand rollup rows however many usage records there are; the list of recent
decisions reads the newest records by primary key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from interlock.storage.database import Database, as_datetime, as_decimal
from interlock.accounting.ledger import HOURLY_DIMENSIONS, hour_key

PROJECTED_CALLS = 5_000_000
_SUMS = """SUM(requests), SUM(errors), SUM(prompt_tokens), SUM(completion_tokens), SUM(cost_usd),
    SUM(baseline_cost_usd), SUM(savings_usd), SUM(unpriced), SUM(latency_ms_sum), SUM(latency_count)"""


def _money(value: Any) -> float:
    return float(as_decimal(value) or Decimal(0))


def _totals(values: tuple[Any, ...] | list[Any]) -> dict[str, Any]:
    requests = int(values[0] or 0)
    latency_count = int(values[9] or 0)
    return {
        "requests": requests,
        "errors": int(values[1] or 0),
        "prompt_tokens": int(values[2] or 0),
        "completion_tokens": int(values[3] or 0),
        "cost_usd": _money(values[4]),
        "baseline_cost_usd": _money(values[5]),
        "savings_usd": _money(values[6]),
        "unpriced": int(values[7] or 0),
        "latency_ms_mean": (int(values[8] or 0) / latency_count) if latency_count else None,
    }


@dataclass(frozen=True, slots=True)
class Window:
    """The last ``hours`` hours up to ``now``; series buckets are hours (up to two days) or days."""

    hours: int
    now: datetime

    @property
    def since_hour(self) -> str:
        return hour_key(self.now - timedelta(hours=self.hours - 1))

    @property
    def bucket_chars(self) -> int:
        return 13 if self.hours <= 48 else 10  # 'YYYY-MM-DDTHH' or 'YYYY-MM-DD'

    def buckets(self) -> list[str]:
        """Every bucket label of the window, oldest first (empty ones are drawn as zero)."""
        hours = (hour_key(self.now - timedelta(hours=h)) for h in range(self.hours - 1, -1, -1))
        return list(dict.fromkeys(h[: self.bucket_chars] for h in hours))

    @classmethod
    def of_days(cls, days: int, now: datetime | None = None) -> Window:
        return cls(max(1, days) * 24, now or datetime.now(UTC))


class LedgerViews:
    def __init__(self, db: Database) -> None:
        self.db = db

    def totals(self, window: Window) -> dict[str, Any]:
        rows = self.db.fetchall(
            f"SELECT {_SUMS} FROM usage_hourly WHERE dim = 'all' AND hour >= ?", (window.since_hour,)
        )
        return _totals(rows[0])

    def series(self, window: Window) -> list[dict[str, Any]]:
        n = window.bucket_chars
        rows = self.db.fetchall(
            f"SELECT substr(hour, 1, {n}), {_SUMS} FROM usage_hourly WHERE dim = 'all' AND hour >= ? "
            "GROUP BY 1 ORDER BY 1",
            (window.since_hour,),
        )
        found = {row[0]: _totals(row[1:]) for row in rows}
        empty = _totals([0] * 10)
        return [{"t": t, **found.get(t, empty)} for t in window.buckets()]

    def by(self, dim: str, window: Window, limit: int = 25) -> list[dict[str, Any]]:
        """Totals per value of ``dim`` over the window, most expensive (then busiest) first."""
        if dim not in HOURLY_DIMENSIONS:
            raise ValueError(f"unknown dimension {dim!r}")
        rows = self.db.fetchall(
            f"SELECT value, {_SUMS} FROM usage_hourly WHERE dim = ? AND hour >= ? GROUP BY value "
            f"ORDER BY SUM(cost_usd) DESC, SUM(requests) DESC LIMIT {int(limit)}",
            (dim, window.since_hour),
        )
        return [{"value": row[0] or None, **_totals(row[1:])} for row in rows]

    def series_by(self, dim: str, values: list[str], window: Window) -> dict[str, list[dict[str, Any]]]:
        """Per-bucket cost and requests of each of ``values`` of ``dim`` (the top groups of a chart)."""
        if dim not in HOURLY_DIMENSIONS:
            raise ValueError(f"unknown dimension {dim!r}")
        if not values:
            return {}
        n = window.bucket_chars
        marks = ", ".join("?" for _ in values)
        rows = self.db.fetchall(
            f"SELECT value, substr(hour, 1, {n}), SUM(requests), SUM(cost_usd), SUM(baseline_cost_usd) "
            f"FROM usage_hourly WHERE dim = ? AND hour >= ? AND value IN ({marks}) "
            "GROUP BY value, 2 ORDER BY 2",
            (dim, window.since_hour, *values),
        )
        found = {(value, t): (requests, cost, baseline) for value, t, requests, cost, baseline in rows}
        out: dict[str, list[dict[str, Any]]] = {}
        for v in values:
            out[v] = []
            for t in window.buckets():
                requests, cost, baseline = found.get((v, t), (0, 0, 0))
                out[v].append(
                    {
                        "t": t,
                        "requests": int(requests or 0),
                        "cost_usd": _money(cost),
                        "baseline_cost_usd": _money(baseline),
                    }
                )
        return out

    def spend_since(self, dim: str, since: datetime) -> dict[str, float]:
        """Cost per value of ``dim`` from the hour containing ``since`` (period starts fall on hours)."""
        rows = self.db.fetchall(
            "SELECT value, SUM(cost_usd) FROM usage_hourly WHERE dim = ? AND hour >= ? GROUP BY value",
            (dim, hour_key(since)),
        )
        return {row[0]: _money(row[1]) for row in rows}

    def recent(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest usage records: the routing decisions, their reasons and outcomes (no prompt text)."""
        names = ("ts", "request_id", "key_id", "team", "route", "category", "model", "model_version", "deployment",
                 "decision_reason", "status", "cost_usd", "baseline_cost_usd", "latency_ms", "attempts",
                 "config_hash")
        rows = self.db.fetchall(f"SELECT {', '.join(names)} FROM usage_records ORDER BY id DESC LIMIT {int(limit)}")
        out = []
        for row in rows:
            item = dict(zip(names, row, strict=True))
            ts = as_datetime(item["ts"])
            item["ts"] = ts.isoformat(timespec="seconds") if ts else None
            for money in ("cost_usd", "baseline_cost_usd"):
                item[money] = None if item[money] is None else _money(item[money])
            out.append(item)
        return out


def projection(totals: dict[str, Any], calls: int = PROJECTED_CALLS) -> dict[str, Any]:
    """Cost and baseline cost of ``calls`` requests at the window's priced cost per request."""
    priced = totals["requests"] - totals["unpriced"]
    if priced <= 0:
        return {"calls": calls, "available": False}
    per_call, baseline_per_call = totals["cost_usd"] / priced, totals["baseline_cost_usd"] / priced
    cost, baseline = per_call * calls, baseline_per_call * calls
    return {
        "calls": calls,
        "available": True,
        "cost_per_call_usd": per_call,
        "baseline_per_call_usd": baseline_per_call,
        "cost_usd": cost,
        "baseline_cost_usd": baseline,
        "savings_usd": baseline - cost,
        "savings_fraction": (baseline - cost) / baseline if baseline else None,
    }
