"""Accounting fixtures: a wall clock that moves only when told, and budget and rate-limit
stores of every kind (in memory, on the real Redis at 127.0.0.1, and in the database: a SQLite
file and the real PostgreSQL), so each behaviour is checked against all of them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from redis.asyncio import Redis
from services import database, pg_schema, postgres_url, redis_client, redis_prefix, redis_url  # noqa: F401  (fixtures)

from interlock.accounting.budgets import BudgetLimits, BudgetStore
from interlock.accounting.memory_budgets import InMemoryBudgetStore
from interlock.accounting.ratelimits import InMemoryRateLimiter, RateLimiter
from interlock.accounting.redis_budgets import RedisBudgetStore
from interlock.accounting.redis_ratelimits import RedisRateLimiter
from interlock.accounting.sql_budgets import SqlBudgetStore
from interlock.accounting.sql_ratelimits import SqlRateLimiter
from interlock.storage.database import Database, open_database


class WallClockStub:
    """Seconds since the epoch, moved only by ``advance`` or ``set``."""

    def __init__(self, start: datetime) -> None:
        self.now = start.timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def set(self, when: datetime) -> None:
        self.now = when.timestamp()


@pytest.fixture
def wall_clock() -> WallClockStub:
    return WallClockStub(datetime(2025, 6, 14, 12, 0, 0, tzinfo=UTC))


BudgetStoreFactory = Callable[..., BudgetStore]


def _database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        db = open_database(str(tmp_path / "counters.db"))
    else:
        db = open_database(request.getfixturevalue("postgres_url"), schema=request.getfixturevalue("pg_schema"))
    yield db
    db.close()


@pytest.fixture(params=["memory", "redis", "sqlite", "postgres"])
def make_budget_store(
    request: pytest.FixtureRequest, wall_clock: WallClockStub, tmp_path: Path
) -> Iterator[BudgetStoreFactory]:
    """Builds a budget store of each kind over the given limits, on the test's clock."""
    if request.param in ("sqlite", "postgres"):
        for db in _database(request, tmp_path):
            yield lambda limits, db=db, **kw: SqlBudgetStore(db, limits, clock=wall_clock, **kw)
        return
    if request.param == "memory":
        yield lambda limits, **kw: InMemoryBudgetStore(limits, clock=wall_clock, **kw)
        return
    client: Redis = request.getfixturevalue("redis_client")
    prefix: str = request.getfixturevalue("redis_prefix")

    def build(limits: BudgetLimits, **kw: object) -> BudgetStore:
        return RedisBudgetStore(client, limits, prefix=prefix, clock=wall_clock, **kw)  # type: ignore[arg-type]

    yield build


@pytest.fixture(params=["memory", "redis", "sqlite", "postgres"])
def rate_limiter(request: pytest.FixtureRequest, wall_clock: WallClockStub, tmp_path: Path) -> Iterator[RateLimiter]:
    if request.param in ("sqlite", "postgres"):
        for db in _database(request, tmp_path):
            yield SqlRateLimiter(db, clock=wall_clock)
        return
    if request.param == "memory":
        yield InMemoryRateLimiter(clock=wall_clock)
        return
    client: Redis = request.getfixturevalue("redis_client")
    yield RedisRateLimiter(client, prefix=request.getfixturevalue("redis_prefix"), clock=wall_clock)
