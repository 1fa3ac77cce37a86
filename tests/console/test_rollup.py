"""The hourly rollup the console reads: exact against the records, live and backfilled, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from interlock.console.ledger_views import LedgerViews, Window, projection
from interlock.storage.database import Database, open_database
from interlock.accounting.ledger import SqlLedgerStore
from interlock.accounting.records import UsageRecord

NOW = datetime.now(UTC)


def records() -> list[UsageRecord]:
    out = []
    for k in range(60):
        priced = k % 7 != 0
        out.append(
            UsageRecord(
                model=["small", "frontier"][k % 2],
                ts=NOW - timedelta(hours=k % 30, minutes=k),
                key_id=f"key_{k % 3}",
                team=None if k % 5 == 0 else f"team-{k % 2}",
                route="auto" if k % 3 else None,
                category=["extraction", "code", None][k % 3],
                deployment=f"d{k % 4}",
                prompt_tokens=k,
                completion_tokens=2 * k,
                cost_usd=Decimal("0.0001") * k if priced else None,
                baseline_cost_usd=Decimal("0.001") * k,
                latency_ms=10 * k,
                status="ok" if k % 11 else "upstream_error",
            )
        )
    return out


def expected(rows: list[UsageRecord], since: datetime) -> dict[str, Decimal | int]:
    inside = [r for r in rows if r.ts.replace(minute=0, second=0, microsecond=0) >= since]
    return {
        "requests": len(inside),
        "errors": sum(r.status != "ok" for r in inside),
        "cost": sum((r.cost_usd for r in inside if r.cost_usd is not None), Decimal(0)),
        "baseline": sum((r.baseline_cost_usd for r in inside if r.baseline_cost_usd is not None), Decimal(0)),
        "unpriced": sum(r.cost_usd is None for r in inside),
    }


def check(views: LedgerViews, rows: list[UsageRecord]) -> None:
    window = Window.of_days(1, NOW)
    since = datetime.strptime(window.since_hour, "%Y-%m-%dT%H").replace(tzinfo=UTC)
    want = expected(rows, since)
    got = views.totals(window)
    assert got["requests"] == want["requests"] and got["errors"] == want["errors"]
    assert got["unpriced"] == want["unpriced"]
    assert got["cost_usd"] == pytest.approx(float(want["cost"])) and got[
        "baseline_cost_usd"
    ] == pytest.approx(float(want["baseline"]))
    assert sum(s["requests"] for s in views.series(window)) == want["requests"]
    assert len(views.series(window)) == 24
    for dim in ("team", "key", "model", "route", "category", "deployment", "category_model"):
        assert sum(g["requests"] for g in views.by(dim, window, limit=100)) == want["requests"], dim
    by_model = {g["value"]: g["requests"] for g in views.by("model", window)}
    inside = [r for r in rows if r.ts.replace(minute=0, second=0, microsecond=0) >= since]
    assert by_model == {m: sum(r.model == m for r in inside) for m in {r.model for r in inside}}


def test_the_rollup_written_with_the_records_matches_them(database: Database) -> None:
    rows = records()
    store = SqlLedgerStore(database)
    store.append(rows[:25])
    store.append(rows[25:])
    check(LedgerViews(database), rows)
    assert store.hourly_backfilled() and not store.backfill_hourly()  # a fresh database has nothing older


def test_records_older_than_the_rollup_are_backfilled_once(database: Database) -> None:
    rows = records()
    store = SqlLedgerStore(database)
    store.append(rows[:40])
    with database.transaction() as tx:  # as if these 40 were written before migration 4
        tx.execute("DELETE FROM usage_hourly")
        tx.execute("UPDATE usage_hourly_state SET backfill_from = 0, backfill_below = 41, "
                   "backfilled_at = NULL")
    store.append(rows[40:])  # written after it: rolled up live
    assert not store.hourly_backfilled()
    assert store.backfill_hourly(chunk=7) and not store.backfill_hourly()  # six chunks, then nothing left
    assert store.hourly_backfilled()
    check(LedgerViews(database), rows)


def test_projection_prices_five_million_calls_at_the_windows_rate() -> None:
    totals = {"requests": 10, "unpriced": 2, "cost_usd": 0.8, "baseline_cost_usd": 4.0}
    p = projection(totals)
    assert p["cost_per_call_usd"] == pytest.approx(0.1) and p["cost_usd"] == pytest.approx(500_000)
    assert p["savings_usd"] == pytest.approx(2_000_000) and p["savings_fraction"] == pytest.approx(0.8)
    assert (
        projection({"requests": 3, "unpriced": 3, "cost_usd": 0, "baseline_cost_usd": 0})["available"]
        is False
    )


def test_an_upgraded_ledger_rolls_up_its_existing_records(tmp_path: Path) -> None:
    from interlock.accounting.ledger import _INSERT, _row_values
    from interlock.storage.migrations import MIGRATIONS, migrate
    from interlock.storage.sqlite import SQLiteDatabase

    path = tmp_path / "old.db"
    old = SQLiteDatabase(path)
    migrate(old, MIGRATIONS[:3])  # a ledger from before the rollup, written by the old code
    rows = records()
    with old.transaction() as tx:
        tx.executemany(_INSERT, [_row_values(r) for r in rows[:50]])
    old.close()
    db = open_database(str(path))  # migration 4 marks where the rollup starts
    try:
        store = SqlLedgerStore(db)
        store.append(rows[50:])
        assert not store.hourly_backfilled()
        assert store.backfill_hourly()
        check(LedgerViews(db), rows)
    finally:
        db.close()


def test_time_to_exhaustion_at_the_burn_rate() -> None:
    from interlock.console.usage_data import _exhaustion

    reset = NOW + timedelta(days=10)
    assert _exhaustion(None, 1.0, 1.0, NOW, reset)["exhaustion"] == "no budget"
    assert _exhaustion(5.0, 5.0, 1.0, NOW, reset)["exhaustion"] == "exhausted"
    assert _exhaustion(5.0, 1.0, 0.0, NOW, reset)["exhaustion"] == "not at the current rate"
    assert _exhaustion(5.0, 1.0, 1e-12, NOW, reset)["exhaustion"] == "not before the period resets"
    soon = _exhaustion(5.0, 1.0, 2.0, NOW, reset)
    assert soon["exhaustion"] == "in 2.0 h" and soon["exhausted_at"] == (NOW + timedelta(hours=2)).isoformat(
        timespec="seconds"
    )


async def test_the_console_rolls_up_older_records_in_the_background(tmp_path: Path) -> None:
    import asyncio

    from interlock.console.rollup import RollupBackfill

    db = open_database(str(tmp_path / "ledger.db"))
    try:
        rows = records()
        SqlLedgerStore(db).append(rows)
        with db.transaction() as tx:  # as if every record predates migration 4
            tx.execute("DELETE FROM usage_hourly")
            tx.execute("UPDATE usage_hourly_state SET backfill_from = 0, backfill_below = 1000, "
                       "backfilled_at = NULL")
        rollup = RollupBackfill()
        assert await rollup.ensure(db) is False  # started, not finished: pages say so
        deadline = asyncio.get_running_loop().time() + 10
        while not await rollup.ensure(db):
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.01)
        check(LedgerViews(db), rows)
    finally:
        db.close()
