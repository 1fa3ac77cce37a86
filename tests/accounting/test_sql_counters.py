"""Budgets and rate limits in the database, shared by worker processes (real processes on one
SQLite file; separate connections on the real PostgreSQL), and the choice of where counters live."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from interlock.accounting.budgets import BudgetTable
from interlock.accounting.memory_budgets import InMemoryBudgetStore
from interlock.accounting.ratelimits import RateLimits
from interlock.accounting.redis_budgets import RedisBudgetStore
from interlock.accounting.settings import AccountingSettings
from interlock.accounting.sql_budgets import SqlBudgetStore
from interlock.accounting.sql_ratelimits import SqlRateLimiter
from interlock.accounting.stores import open_counters, worker_count
from interlock.errors import BudgetExceeded, RateLimited
from interlock.storage.database import open_database
from interlock.accounting.instances import DATABASE_BUDGETS, PROCESS_BUDGETS

CALLS_PER_WORKER = 25
COST = Decimal("0.02")
LIMIT = Decimal("0.50")


def _limits() -> BudgetTable:
    table = BudgetTable()
    table.set_team_budget("ml", LIMIT)
    return table


async def _spend(url: str, schema: str | None, calls: int) -> tuple[int, int]:
    """One worker: reserve and settle ``calls`` times against the team budget; (admitted, refused)."""
    db = open_database(url, schema=schema)
    store = SqlBudgetStore(db, _limits())
    limiter = SqlRateLimiter(db)
    admitted = refused = 0
    try:
        for _ in range(calls):
            try:
                await limiter.acquire("key_x", RateLimits(rpm=1000), tokens=1)
                reservation = await store.reserve("key_x", "ml", COST)
            except BudgetExceeded:
                refused += 1
                continue
            await asyncio.sleep(0)
            await store.settle(reservation, COST)
            admitted += 1
    finally:
        db.close()
    return admitted, refused


# A worker process doing what _spend does, importing only the accounting modules (fast to start).
_WORKER = f"""
import asyncio, sys
from decimal import Decimal
from interlock.accounting.budgets import BudgetTable
from interlock.accounting.ratelimits import RateLimits
from interlock.accounting.sql_budgets import SqlBudgetStore
from interlock.accounting.sql_ratelimits import SqlRateLimiter
from interlock.errors import BudgetExceeded
from interlock.storage.database import open_database

async def spend():
    table = BudgetTable()
    table.set_team_budget("ml", Decimal("{LIMIT}"))
    db = open_database(sys.argv[1])
    store, limiter, admitted, refused = SqlBudgetStore(db, table), SqlRateLimiter(db), 0, 0
    for _ in range({CALLS_PER_WORKER}):
        try:
            await limiter.acquire("key_x", RateLimits(rpm=1000), tokens=1)
            reservation = await store.reserve("key_x", "ml", Decimal("{COST}"))
        except BudgetExceeded:
            refused += 1
            continue
        await asyncio.sleep(0)
        await store.settle(reservation, Decimal("{COST}"))
        admitted += 1
    db.close()
    print(admitted, refused)

asyncio.run(spend())
"""


def test_four_processes_on_one_sqlite_file_share_one_budget(tmp_path: Path) -> None:
    url = str(tmp_path / "gateway.db")
    open_database(url).close()  # migrated once, as the first worker to start would
    workers = [subprocess.Popen([sys.executable, "-c", _WORKER, url], stdout=subprocess.PIPE, text=True)
               for _ in range(4)]
    outputs = [w.communicate(timeout=60)[0] for w in workers]
    assert [w.returncode for w in workers] == [0] * 4
    outcomes = [tuple(int(n) for n in out.split()) for out in outputs]
    assert sum(a for a, _ in outcomes) == 25  # 0.50 / 0.02, never one more
    assert sum(r for _, r in outcomes) == 75
    db = open_database(url)
    try:
        [status] = asyncio.run(SqlBudgetStore(db, _limits()).status("key_x", "ml"))
        [[requests]] = db.fetchall("SELECT SUM(count) FROM rate_counters WHERE slot LIKE 'key_x:requests:%'")
    finally:
        db.close()
    assert status.spent_usd == LIMIT and status.held_usd == 0
    assert requests == 100  # every call counted once, across the processes


async def test_four_connections_on_postgres_share_one_budget(postgres_url: str, pg_schema: str) -> None:
    open_database(postgres_url, schema=pg_schema).close()
    outcomes = await asyncio.gather(*(_spend(postgres_url, pg_schema, CALLS_PER_WORKER) for _ in range(4)))
    assert sum(a for a, _ in outcomes) == 25
    assert sum(r for _, r in outcomes) == 75


async def test_rate_limit_holds_across_connections(tmp_path: Path) -> None:
    url = str(tmp_path / "gateway.db")
    dbs = [open_database(url) for _ in range(3)]
    limiters = [SqlRateLimiter(db, clock=lambda: 1_000_000.0) for db in dbs]
    limited = 0
    try:
        for i in range(9):
            try:
                await limiters[i % 3].acquire("key_y", RateLimits(rpm=5), tokens=1)
            except RateLimited:
                limited += 1
    finally:
        for db in dbs:
            db.close()
    assert limited == 4


def test_counters_live_in_redis_then_the_database_for_workers_else_in_memory(tmp_path: Path) -> None:
    db = open_database(str(tmp_path / "gateway.db"))
    try:
        redis = open_counters(AccountingSettings(redis_url="redis://127.0.0.1:6379/0"), _limits(), None, db, workers=4)
        assert isinstance(redis.budgets, RedisBudgetStore) and redis.scope == "redis://127.0.0.1:6379/0"
        asyncio.run(redis.budgets.aclose())  # never connected: closes the pool it built
        shared = open_counters(AccountingSettings(), _limits(), None, db, workers=2)
        assert isinstance(shared.budgets, SqlBudgetStore) and isinstance(shared.limiter, SqlRateLimiter)
        assert shared.scope == DATABASE_BUDGETS
        alone = open_counters(AccountingSettings(), _limits(), None, db, workers=1)
        assert isinstance(alone.budgets, InMemoryBudgetStore) and alone.scope == PROCESS_BUDGETS
    finally:
        db.close()
    # without keys or a ledger the workers still share team budgets, in the configured database
    nodb = open_counters(AccountingSettings(database_url=str(tmp_path / "teams.db")), _limits(), None, None,
                         workers=2)
    assert isinstance(nodb.budgets, SqlBudgetStore)
    asyncio.run(nodb.budgets.aclose())  # type: ignore[attr-defined]
    assert (tmp_path / "teams.db").exists()


def test_worker_count_comes_from_the_environment_with_a_clear_error() -> None:
    assert worker_count({}) == 1
    assert worker_count({"INTERLOCK_WORKERS": "3"}) == 3
    with pytest.raises(ValueError, match="INTERLOCK_WORKERS must be a whole number"):
        worker_count({"INTERLOCK_WORKERS": "many"})
