"""The append-only usage ledger: writing records and reading spend back out of them.

``SqlLedgerStore`` runs over any ``Database`` (SQLite or PostgreSQL). Its methods block;
the request path never calls them directly but goes through ``LedgerWriter``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from interlock.storage.database import Database, as_datetime, as_decimal, to_utc
from interlock.storage.records import (
    GROUP_COLUMNS,
    RECORD_COLUMNS,
    GroupBy,
    Projection,
    SpendRow,
    UsageRecord,
)

DAYS_PER_MONTH = Decimal("30.4375")
_SECONDS_PER_DAY = Decimal(86400)

_INSERT = (
    f"INSERT INTO usage_records ({', '.join(RECORD_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in RECORD_COLUMNS)})"
)

_AGGREGATES = """COUNT(*),
    COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0), COALESCE(SUM(cached_tokens), 0),
    SUM(cost_usd), SUM(baseline_cost_usd), SUM(baseline_cost_usd - cost_usd),
    SUM(CASE WHEN cost_usd IS NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN usage_estimated THEN 1 ELSE 0 END),
    MIN(ts), MAX(ts)"""


class LedgerStore(Protocol):
    def append(self, records: Sequence[UsageRecord]) -> None:
        """Write all of ``records`` in one transaction, or none of them."""
        ...

    def spend(
        self, by: GroupBy | None = None, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[SpendRow]: ...

    def count(self) -> int: ...

    def close(self) -> None: ...


def _row_values(record: UsageRecord) -> list[Any]:
    return [to_utc(record.ts) if c == "ts" else getattr(record, c) for c in RECORD_COLUMNS]


def _spend_row(group: Any, values: Sequence[Any]) -> SpendRow:
    zero = Decimal(0)
    return SpendRow(
        group=None if group is None else str(group),
        requests=int(values[0]),
        prompt_tokens=int(values[1]),
        completion_tokens=int(values[2]),
        cached_tokens=int(values[3]),
        cost_usd=as_decimal(values[4]) or zero,
        baseline_cost_usd=as_decimal(values[5]) or zero,
        savings_usd=as_decimal(values[6]) or zero,
        unpriced_requests=int(values[7] or 0),
        estimated_requests=int(values[8] or 0),
        first_at=as_datetime(values[9]),
        last_at=as_datetime(values[10]),
    )


class SqlLedgerStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def append(self, records: Sequence[UsageRecord]) -> None:
        if not records:
            return
        with self.db.transaction() as tx:
            tx.executemany(_INSERT, [_row_values(r) for r in records])

    def spend(
        self, by: GroupBy | None = None, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[SpendRow]:
        """Totals over ``[since, until)``, one row per value of ``by`` (most expensive first)."""
        where, params = [], []
        if since is not None:
            where.append("ts >= ?")
            params.append(to_utc(since))
        if until is not None:
            where.append("ts < ?")
            params.append(to_utc(until))
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        if by is None:
            rows = self.db.fetchall(f"SELECT {_AGGREGATES} FROM usage_records{clause}", params)
            return [_spend_row(None, rows[0])] if rows and rows[0][0] else []
        column = GROUP_COLUMNS[by]
        rows = self.db.fetchall(
            f"SELECT {column}, {_AGGREGATES} FROM usage_records{clause} GROUP BY {column}", params
        )
        out = [_spend_row(row[0], row[1:]) for row in rows]
        return sorted(out, key=lambda r: (-r.cost_usd, r.group or ""))

    def cost_since(self, by: GroupBy, value: str, since: datetime) -> Decimal:
        """Total priced cost of the records whose ``by`` column is ``value``, from ``since`` on."""
        column = GROUP_COLUMNS[by]
        rows = self.db.fetchall(
            f"SELECT SUM(cost_usd) FROM usage_records WHERE {column} = ? AND ts >= ?", [value, to_utc(since)]
        )
        return (as_decimal(rows[0][0]) if rows else None) or Decimal(0)

    def count(self) -> int:
        return int(self.db.fetchall("SELECT COUNT(*) FROM usage_records")[0][0])

    def close(self) -> None:
        self.db.close()


def _seconds(delta: timedelta) -> Decimal:
    return Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds) / 1_000_000


def monthly_projection(
    ledger: LedgerStore, *, now: datetime, lookback: timedelta = timedelta(days=7)
) -> Projection:
    """Project a month's cost and baseline cost from the run rate over ``lookback``.

    The rate is measured from the first record inside the window (so a gateway that
    started two days ago is not averaged over seven), but over at least one hour.
    """
    until = to_utc(now)
    since = until - lookback
    rows = ledger.spend(since=since, until=until)
    zero = Decimal(0)
    if not rows:
        return Projection(since, until, zero, 0, zero, zero, 0, zero, zero)
    total = rows[0]
    start = max(since, total.first_at or since)
    seconds = max(_seconds(until - start), Decimal(3600))
    days = seconds / _SECONDS_PER_DAY
    scale = DAYS_PER_MONTH / days
    return Projection(
        since=since,
        until=until,
        observed_days=days,
        requests=total.requests,
        cost_usd=total.cost_usd,
        baseline_cost_usd=total.baseline_cost_usd,
        unpriced_requests=total.unpriced_requests,
        monthly_cost_usd=total.cost_usd * scale,
        monthly_baseline_cost_usd=total.baseline_cost_usd * scale,
    )
