"""The append-only usage ledger: writing records and reading spend back out of them.

``SqlLedgerStore`` runs over any ``Database`` (SQLite or PostgreSQL). Its methods block;
the request path never calls them directly but goes through ``LedgerWriter``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from interlock.accounting.records import (
    GROUP_COLUMNS,
    RECORD_COLUMNS,
    GroupBy,
    Projection,
    SpendRow,
    UsageRecord,
    WireRecord,
    money_value,
    record_wire,
)
from interlock.storage.database import Database, as_datetime, as_decimal, to_utc

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


HOURLY_DIMENSIONS: dict[str, str] = {
    "all": "''",
    "team": "COALESCE(team, '')",
    "key": "COALESCE(key_id, '')",
    "model": "model",
    "route": "COALESCE(route, '')",
    "category": "COALESCE(category, '')",
    "deployment": "COALESCE(deployment, '')",
    "category_model": "COALESCE(category, '') || '\t' || model",
}
"""The dimensions of ``usage_hourly`` and the SQL of each one's value (``category_model``: tab-joined)."""

_HOURLY_COLUMNS = ("hour", "dim", "value", "requests", "errors", "prompt_tokens", "completion_tokens",
                   "cost_usd", "baseline_cost_usd", "savings_usd", "unpriced", "latency_ms_sum",
                   "latency_count")
_HOURLY_SUMS = _HOURLY_COLUMNS[3:]
_HOURLY_ADD = "ON CONFLICT (dim, value, hour) DO UPDATE SET " + ", ".join(
    f"{c} = usage_hourly.{c} + excluded.{c}" for c in _HOURLY_SUMS)
_HOURLY_UPSERT = (f"INSERT INTO usage_hourly ({', '.join(_HOURLY_COLUMNS)}) "
                  f"VALUES ({', '.join('?' for _ in _HOURLY_COLUMNS)}) {_HOURLY_ADD}")
# The hour of a stored timestamp, as the 'YYYY-MM-DDTHH' text ``hour_key`` writes (SQLite keeps ISO text).
_HOUR_OF_TS = {
    "sqlite": "substr(ts, 1, 13)",
    "postgresql": "to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24')",
}
_HOURLY_SELECT = """SELECT {hour}, '{dim}', {value}, COUNT(*),
    SUM(CASE WHEN status <> 'ok' THEN 1 ELSE 0 END),
    COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0), COALESCE(SUM(cost_usd), 0),
    COALESCE(SUM(baseline_cost_usd), 0), COALESCE(SUM(baseline_cost_usd - cost_usd), 0),
    SUM(CASE WHEN cost_usd IS NULL THEN 1 ELSE 0 END), COALESCE(SUM(latency_ms), 0), COUNT(latency_ms)
    FROM usage_records WHERE id >= ? AND id < ? GROUP BY 1, 3"""


def hour_key(ts: datetime) -> str:
    """The ``usage_hourly.hour`` of a moment: UTC, 'YYYY-MM-DDTHH'."""
    return to_utc(ts).strftime("%Y-%m-%dT%H")


_DIMENSIONS = tuple(HOURLY_DIMENSIONS)
# positions in a wire record (``RECORD_COLUMNS`` order)
(_TS, _KEY, _TEAM, _ROUTE, _CATEGORY, _MODEL, _DEPLOYMENT, _PROMPT, _COMPLETION, _COST, _BASELINE, _LATENCY,
 _STATUS) = (RECORD_COLUMNS.index(c) for c in ("ts", "key_id", "team", "route", "category", "model", "deployment",
                                                "prompt_tokens", "completion_tokens", "cost_usd",
                                                "baseline_cost_usd", "latency_ms", "status"))
_ZERO = (0, 0, 0, 0, Decimal(0), Decimal(0), Decimal(0), 0, 0, 0)


def _hourly_rows(rows: Sequence[WireRecord]) -> list[list[Any]]:
    """The records' totals per (hour, dimension, value), to add onto ``usage_hourly``.

    Records alike in every dimension form a group, summed once for all eight dimensions. Every total
    adds its records in batch order, as a record-by-record loop would, so a ``Decimal`` sum that has to
    round (costs of 28 digits) comes out the same.
    """
    adds: list[tuple[Any, ...]] = []
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, w in enumerate(rows):
        cost, baseline, latency = money_value(w[_COST]), money_value(w[_BASELINE]), w[_LATENCY]
        priced = cost is not None and baseline is not None
        adds.append((1, 0 if w[_STATUS] == "ok" else 1, w[_PROMPT], w[_COMPLETION], cost or Decimal(0),
                     baseline or Decimal(0),
                     (baseline - cost) if priced else Decimal(0),
                     1 if cost is None else 0, latency or 0, 0 if latency is None else 1))
        category, model = w[_CATEGORY] or "", w[_MODEL]
        # the value of each of HOURLY_DIMENSIONS, in its order, after the hour
        key = (_hour_of(w[_TS]), "", w[_TEAM] or "", w[_KEY] or "", model, w[_ROUTE] or "", category,
               w[_DEPLOYMENT] or "",
               f"{category}\t{model}")
        groups.setdefault(key, []).append(i)
    buckets: dict[tuple[str, str, Any], list[list[int]]] = {}
    for key, members in groups.items():
        for dim, value in zip(_DIMENSIONS, key[1:], strict=True):
            buckets.setdefault((key[0], dim, value), []).append(members)
    per_group: dict[int, list[Any]] = {}
    out = []
    # one order for every writer: concurrent upserts on PostgreSQL then lock rows alike and cannot deadlock
    for bucket in sorted(buckets, key=lambda k: (k[1], k[2], k[0])):
        lists = buckets[bucket]
        if len(lists) == 1:
            totals = per_group.get(id(lists[0]))
            if totals is None:
                totals = per_group[id(lists[0])] = _totals(adds, lists[0])
        else:
            totals = _totals(adds, sorted(i for members in lists for i in members))
        out.append([*bucket, *totals])
    return out


def _totals(adds: Sequence[tuple[Any, ...]], members: Sequence[int]) -> list[Any]:
    row = list(_ZERO)
    for i in members:
        for k, amount in enumerate(adds[i]):
            row[k] += amount
    return row


def _hour_of(ts: str) -> str:
    """``hour_key`` of a ``utc_iso`` text: its first 13 characters from year 1000 on."""
    return ts[:13] if ts[0] != "0" else hour_key(as_datetime(ts))  # type: ignore[arg-type]


class LedgerSink(Protocol):
    """Where the ledger writer's batches go: a store, or the writer process standing in for one."""

    def append_wire(self, rows: Sequence[WireRecord]) -> None:
        """Write a batch of records in wire form (``records.record_wire``) in one transaction, or none."""
        ...


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


def _stored_values(w: WireRecord, sqlite: bool) -> list[Any]:
    """A wire record's column values. On SQLite: the text and floats its adapter would make of the
    ``datetime`` and ``Decimal`` (``float(d)`` is ``float(str(d))``); its ``strftime`` writes a year
    before 1000 unpadded, so such a moment is left to it."""
    if sqlite:
        ts: Any = w[_TS] if w[_TS][0] != "0" else as_datetime(w[_TS])
        cost, baseline = w[_COST], w[_BASELINE]
        return [ts, *w[1:_COST], float(cost) if type(cost) is str else cost,
                float(baseline) if type(baseline) is str else baseline, *w[_LATENCY:]]
    return [as_datetime(w[_TS]), *w[1:_COST], money_value(w[_COST]), money_value(w[_BASELINE]), *w[_LATENCY:]]


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
        self.append_wire([record_wire(r) for r in records])

    def append_wire(self, rows: Sequence[WireRecord]) -> None:
        """``append`` of records in their wire form (what the writer process receives)."""
        if not rows:
            return
        sqlite = self.db.dialect.name == "sqlite"
        with self.db.transaction() as tx:
            tx.executemany(_INSERT, [_stored_values(w, sqlite) for w in rows])
            tx.executemany(_HOURLY_UPSERT, _hourly_rows(rows))

    def backfill_hourly(self, chunk: int = 20_000) -> bool:
        """Roll up the records written before ``usage_hourly`` existed; ``False`` if there were none left.

        A chunk of ids per transaction, so writers and key lookups wait for one chunk at most. Each
        chunk first moves the cursor in the state row on the condition that it has not moved: a
        second process doing the same skips that chunk, and a failure leaves it to be redone.
        """
        hour = _HOUR_OF_TS[self.db.dialect.name]
        columns = ", ".join(_HOURLY_COLUMNS)
        worked = False
        while True:
            with self.db.transaction() as tx:
                rows = tx.fetchall(
                    "SELECT backfill_from, backfill_below, backfilled_at FROM usage_hourly_state")
                if not rows or rows[0][2] is not None:
                    return worked
                low, below = int(rows[0][0]), int(rows[0][1])
                high = min(low + chunk, below)
                done = datetime.now(UTC) if high >= below else None
                taken = tx.execute(
                    "UPDATE usage_hourly_state SET backfill_from = ?, backfilled_at = ? "
                    "WHERE id = 1 AND backfill_from = ? AND backfilled_at IS NULL", (high, done, low))
                if taken:
                    for dim, value in HOURLY_DIMENSIONS.items():
                        select = _HOURLY_SELECT.format(hour=hour, dim=dim, value=value)
                        insert = f"INSERT INTO usage_hourly ({columns}) {select} {_HOURLY_ADD}"
                        tx.execute(insert, (low, high))
                    worked = True

    def hourly_backfilled(self) -> bool:
        rows = self.db.fetchall("SELECT backfilled_at FROM usage_hourly_state WHERE id = 1")
        return not rows or rows[0][0] is not None

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
