"""Accounting fixtures: a wall clock that moves only when told, and budget and rate-limit
stores of both kinds (in memory, and on the real Redis at 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis
from services import redis_client, redis_prefix, redis_url  # noqa: F401  (fixtures)

from interlock.accounting.budgets import BudgetLimits, BudgetStore
from interlock.accounting.memory_budgets import InMemoryBudgetStore
from interlock.accounting.ratelimits import InMemoryRateLimiter, RateLimiter
from interlock.accounting.redis_budgets import RedisBudgetStore
from interlock.accounting.redis_ratelimits import RedisRateLimiter


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


@pytest.fixture(params=["memory", "redis"])
def make_budget_store(request: pytest.FixtureRequest, wall_clock: WallClockStub) -> BudgetStoreFactory:
    """Builds a budget store of each kind over the given limits, on the test's clock."""
    if request.param == "memory":
        return lambda limits, **kw: InMemoryBudgetStore(limits, clock=wall_clock, **kw)
    client: Redis = request.getfixturevalue("redis_client")
    prefix: str = request.getfixturevalue("redis_prefix")

    def build(limits: BudgetLimits, **kw: object) -> BudgetStore:
        return RedisBudgetStore(client, limits, prefix=prefix, clock=wall_clock, **kw)  # type: ignore[arg-type]

    return build


@pytest.fixture(params=["memory", "redis"])
def rate_limiter(request: pytest.FixtureRequest, wall_clock: WallClockStub) -> RateLimiter:
    if request.param == "memory":
        return InMemoryRateLimiter(clock=wall_clock)
    client: Redis = request.getfixturevalue("redis_client")
    return RedisRateLimiter(client, prefix=request.getfixturevalue("redis_prefix"), clock=wall_clock)
