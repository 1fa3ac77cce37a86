"""The ledger's wire form: records reach the writer process as tuples of plain values and are
stored exactly as the records themselves were, rows and hourly roll-ups, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from interlock.accounting.ledger import _INSERT, SqlLedgerStore, _hourly_rows, _row_values, hour_key
from interlock.accounting.records import RECORD_COLUMNS, UsageRecord, record_from_wire, record_wire
from interlock.storage.database import Database, to_utc

D = Decimal
T0 = datetime(2025, 6, 10, 9, 58, 1, 250_000, tzinfo=UTC)
THIRD = D(1) / D(3)  # 28 significant digits: sums of such costs round


def _records(n: int, seed: int = 3) -> list[UsageRecord]:
    rnd = random.Random(seed)

    def pick(values: list[Any]) -> Any:
        return values[rnd.randrange(len(values))]

    out = []
    for i in range(n):
        ts = T0 + timedelta(minutes=17 * i)
        out.append(UsageRecord(
            model=pick(["m1", "m2", "modèle"]), request_id=f"r{i}",
            ts=pick([ts, ts.replace(microsecond=0), ts.replace(tzinfo=None), ts.astimezone(timezone(timedelta(hours=-5)))]),
            key_id=pick([None, "k1"]), team=pick([None, "ml", "wéb"]), route=pick([None, "auto"]),
            category=pick([None, "chat", "code"]), model_version=pick([None, "v1"]), deployment=pick([None, "d1", "d2"]),
            prompt_tokens=rnd.randrange(900), completion_tokens=rnd.randrange(300), cached_tokens=rnd.randrange(3),
            usage_estimated=pick([True, False]),
            cost_usd=pick([None, D("0"), D("0.000"), D("0.0000049"), THIRD * rnd.randrange(1, 9), D("1E+3")]),
            baseline_cost_usd=pick([None, D("0.0405"), THIRD * 7, D("-0"), D("12345.678901234")]),
            latency_ms=pick([None, 0, 17]), attempts=pick([1, 2]), decision_reason=pick([None, 'a "quoted" reason']),
            config_hash=pick([None, "cfg"]), status=pick(["ok", "ok", "upstream_error"])))
    return out


def _hourly_one_by_one(records: list[UsageRecord]) -> list[list[Any]]:
    """The roll-up as it was first written: every record added onto all eight of its rows in turn."""
    totals: dict[tuple[str, str, str], list[Any]] = {}
    for r in records:
        values = {"all": "", "team": r.team or "", "key": r.key_id or "", "model": r.model,
                  "route": r.route or "", "category": r.category or "", "deployment": r.deployment or "",
                  "category_model": f"{r.category or ''}\t{r.model}"}
        priced = r.cost_usd is not None and r.baseline_cost_usd is not None
        add = (1, 0 if r.status == "ok" else 1, r.prompt_tokens, r.completion_tokens,
               r.cost_usd or D(0), r.baseline_cost_usd or D(0),
               (r.baseline_cost_usd - r.cost_usd) if priced else D(0),  # type: ignore[operator]
               1 if r.cost_usd is None else 0, r.latency_ms or 0, 0 if r.latency_ms is None else 1)
        for dim, value in values.items():
            row = totals.setdefault((hour_key(r.ts), dim, value), [0, 0, 0, 0, D(0), D(0), D(0), 0, 0, 0])
            for k, amount in enumerate(add):
                row[k] += amount
    return [[*key, *totals[key]] for key in sorted(totals, key=lambda k: (k[1], k[2], k[0]))]


def _exact(rows: list[list[Any]]) -> list[list[Any]]:
    """Rows with each Decimal as its text, so digits and exponent must match, not only the value."""
    return [[str(v) if isinstance(v, Decimal) else v for v in row] for row in rows]


def test_a_record_comes_back_from_its_wire_form() -> None:
    for record in _records(40):
        wire = record_wire(record)
        assert len(wire) == len(RECORD_COLUMNS) and isinstance(wire[0], str)
        back = record_from_wire(wire)
        assert back.ts == to_utc(record.ts) and back.ts.tzinfo is not None
        same = {c: getattr(back, c) for c in RECORD_COLUMNS if c != "ts"}
        assert same == {c: getattr(record, c) for c in RECORD_COLUMNS if c != "ts"}
        for name in ("cost_usd", "baseline_cost_usd"):  # digits and exponent too, not only the value
            assert str(getattr(back, name)) == str(getattr(record, name))


def test_hourly_totals_are_the_record_by_record_sums_to_the_digit() -> None:
    records = _records(300)
    assert _exact(_hourly_rows([record_wire(r) for r in records])) == _exact(_hourly_one_by_one(records))


def test_a_rounding_sum_keeps_the_batch_order_across_groups() -> None:
    # Two groups (teams) interleaved in the batch; their "all" row sums costs whose 28-digit sums round,
    # so adding group by group instead of in batch order would give another total.
    costs = [D("1E+10"), THIRD, D("-1E+10"), THIRD * 2, D("7E-19")]
    records = [UsageRecord(model="m", ts=T0, team=("a" if i % 2 else "b"), cost_usd=c, baseline_cost_usd=c)
               for i, c in enumerate(costs)]
    regrouped = sum((c for i, c in enumerate(costs) if i % 2), D(0)) + sum((c for i, c in enumerate(costs) if not i % 2), D(0))
    assert regrouped != sum(costs, D(0))  # the case does depend on the order
    rows = _hourly_rows([record_wire(r) for r in records])
    (everything,) = [row for row in rows if row[1] == "all"]
    assert str(everything[7]) == str(sum(costs, D(0)))
    assert _exact(rows) == _exact(_hourly_one_by_one(records))


def test_the_store_writes_the_rows_the_records_make(database: Database) -> None:
    records = [*_records(60), UsageRecord(model="m", request_id="early", ts=datetime(999, 3, 4, 5, 6, 7, 8, tzinfo=UTC),
                                          cost_usd=D("0.5"))]
    with database.transaction() as tx:  # the rows as the adapters make them of the records' own values
        tx.executemany(_INSERT, [_row_values(r) for r in records])
    SqlLedgerStore(database).append(records)
    columns = ", ".join(RECORD_COLUMNS)
    rows = database.fetchall(f"SELECT {columns} FROM usage_records ORDER BY id")
    assert len(rows) == 2 * len(records)
    assert rows[len(records):] == rows[: len(records)]


def test_an_empty_batch_writes_nothing(database: Database) -> None:
    store = SqlLedgerStore(database)
    store.append_wire([])
    assert store.count() == 0


@pytest.mark.parametrize("moment", [datetime(999, 3, 4, 5, 6, 7, 8, tzinfo=UTC), T0, T0.replace(tzinfo=None)])
def test_the_hour_of_a_wire_record_is_its_hour_key(moment: datetime) -> None:
    (row, *_) = _hourly_rows([record_wire(UsageRecord(model="m", ts=moment))])
    assert row[0] == hour_key(moment)


def _old_usage_record(rec: Any, ts: datetime) -> UsageRecord:
    """The record ``Metering.record`` built before it made the wire row itself (the reference)."""
    return UsageRecord(
        model=rec.model, request_id=rec.request_id, ts=ts, key_id=rec.key_id, team=rec.team,
        route=rec.extra.get("route"), category=rec.extra.get("category"), model_version=rec.model_version,
        deployment=rec.deployment or None, prompt_tokens=rec.usage.prompt_tokens,
        completion_tokens=rec.usage.completion_tokens, cached_tokens=rec.usage.cached_tokens,
        usage_estimated=rec.usage.estimated, cost_usd=rec.cost_usd, baseline_cost_usd=rec.baseline_cost_usd,
        latency_ms=int(rec.latency_s * 1000), attempts=rec.attempts, decision_reason=rec.extra.get("decision"),
        config_hash=rec.config_hash, status="ok" if rec.error_code is None else rec.error_code,
    )


@pytest.mark.parametrize("variant", range(4))
def test_a_finished_request_becomes_the_wire_row_of_its_usage_record(variant: int) -> None:
    from interlock.accounting.metering import usage_wire
    from interlock.observability.record import RequestRecord
    from interlock.types import Usage

    rec = RequestRecord(request_id=f"req-{variant}", endpoint="chat", model="m1", key_id=[None, "k1"][variant % 2],
                        team=[None, "wéb"][variant % 2], deployment=["", "d1"][variant % 2],
                        model_version=[None, "v2"][variant % 2], usage=Usage(120, 30, 4, estimated=variant == 3),
                        latency_s=[0.0, 0.0456, 1.2345, 7.0][variant], config_hash="cfg", attempts=variant + 1,
                        cost_usd=[None, D("0.0000049"), THIRD, D("0")][variant],
                        baseline_cost_usd=[None, D("0.0405"), THIRD * 7, D("-0")][variant])
    if variant >= 2:
        rec.extra.update(route="auto", category="code", decision='a "quoted" reason')
    if variant == 3:
        rec.finish(502, "upstream_error")
    before = datetime.now(UTC)
    row = usage_wire(rec)
    after = datetime.now(UTC)
    stored = record_from_wire(row)
    assert before <= stored.ts <= after
    assert row == record_wire(_old_usage_record(rec, stored.ts))
    assert stored.cost_usd == rec.cost_usd and str(stored.baseline_cost_usd) == str(rec.baseline_cost_usd)
