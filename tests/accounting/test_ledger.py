"""The usage ledger on SQLite and PostgreSQL: appends, spend queries and the projection."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from interlock.storage.database import Database, open_database
from interlock.accounting.ledger import SqlLedgerStore, monthly_projection
from interlock.accounting.records import UsageRecord

D = Decimal
T0 = datetime(2025, 6, 10, 9, 0, tzinfo=UTC)


def record(**fields: object) -> UsageRecord:
    defaults: dict[str, object] = {
        "model": "gpt-4.1",
        "ts": T0,
        "team": "ml",
        "key_id": "key_a",
        "route": "chat",
    }
    return UsageRecord(**{**defaults, **fields})  # type: ignore[arg-type]


def test_spend_by_team_sums_cost_baseline_and_savings(database: Database) -> None:
    ledger = SqlLedgerStore(database)
    ledger.append(
        [
            record(
                cost_usd=D("0.0037"),
                baseline_cost_usd=D("0.0405"),
                prompt_tokens=1200,
                completion_tokens=350,
                cached_tokens=1000,
            ),
            record(
                cost_usd=D("0.0100"), baseline_cost_usd=D("0.1000"), prompt_tokens=100, completion_tokens=10
            ),
            record(
                team="web",
                model="llama-3.1-8b",
                cost_usd=None,
                baseline_cost_usd=D("0.0200"),
                usage_estimated=True,
            ),
        ]
    )
    ml, web = ledger.spend("team")
    assert (ml.group, ml.requests, ml.prompt_tokens, ml.completion_tokens, ml.cached_tokens) == (
        "ml",
        2,
        1300,
        360,
        1000,
    )
    assert (ml.cost_usd, ml.baseline_cost_usd, ml.savings_usd) == (D("0.0137"), D("0.1405"), D("0.1268"))
    # An unpriced request is counted as such; it adds no cost and no savings.
    assert (web.group, web.cost_usd, web.baseline_cost_usd, web.savings_usd) == ("web", 0, D("0.02"), 0)
    assert (web.unpriced_requests, web.estimated_requests) == (1, 1)


@pytest.mark.parametrize(
    "by", ["team", "key", "route", "category", "model", "model_version", "deployment", "status"]
)
def test_every_grouping_works(database: Database, by: str) -> None:
    ledger = SqlLedgerStore(database)
    ledger.append([record(cost_usd=D(1)), record(cost_usd=D(2), status="upstream_timeout")])
    rows = ledger.spend(by)  # type: ignore[arg-type]
    assert sum(r.requests for r in rows) == 2
    assert sum(r.cost_usd for r in rows) == D(3)


def test_time_range_is_half_open(database: Database) -> None:
    ledger = SqlLedgerStore(database)
    ledger.append([record(ts=T0 + timedelta(hours=h), cost_usd=D(h)) for h in range(5)])
    [row] = ledger.spend(since=T0 + timedelta(hours=1), until=T0 + timedelta(hours=3))
    assert (row.requests, row.cost_usd) == (2, D(3))
    assert (row.first_at, row.last_at) == (T0 + timedelta(hours=1), T0 + timedelta(hours=2))
    assert ledger.spend(since=T0 + timedelta(days=1)) == []


def test_a_batch_is_written_whole_or_not_at_all(database: Database) -> None:
    ledger = SqlLedgerStore(database)
    with pytest.raises((sqlite3.IntegrityError, psycopg.errors.NotNullViolation)):
        ledger.append([record(), record(model=None)])  # type: ignore[arg-type]
    assert ledger.count() == 0


def test_records_survive_a_restart(tmp_path: Path) -> None:
    path = str(tmp_path / "ledger.db")
    first = SqlLedgerStore(open_database(path))
    first.append([record(request_id=f"r{i}") for i in range(3)])
    first.close()
    second = SqlLedgerStore(open_database(path))
    second.append([record(request_id="r3")])
    assert second.count() == 4
    second.close()


def test_monthly_projection_from_the_run_rate(database: Database) -> None:
    ledger = SqlLedgerStore(database)
    now = T0 + timedelta(days=10)
    # Two days of traffic: $10 spent against a $50 baseline -> $5/day and $25/day.
    ledger.append(
        [
            record(ts=now - timedelta(days=2), cost_usd=D(4), baseline_cost_usd=D(20)),
            record(ts=now - timedelta(days=1), cost_usd=D(6), baseline_cost_usd=D(30)),
            record(
                ts=now - timedelta(days=30), cost_usd=D(999), baseline_cost_usd=D(999)
            ),  # outside the window
        ]
    )
    projection = monthly_projection(ledger, now=now, lookback=timedelta(days=7))
    assert projection.observed_days == D(2)
    assert projection.requests == 2
    assert projection.monthly_cost_usd == D("152.1875")  # 30.4375 days * $5
    assert projection.monthly_baseline_cost_usd == D("760.9375")
    assert projection.monthly_savings_usd == D("608.75")


def test_projection_of_an_empty_ledger_is_zero(database: Database) -> None:
    projection = monthly_projection(SqlLedgerStore(database), now=T0)
    assert (projection.requests, projection.monthly_cost_usd) == (0, 0)
