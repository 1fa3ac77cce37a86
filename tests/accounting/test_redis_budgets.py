"""Redis budgets shared by several gateway processes (each with its own connection pool)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from interlock.accounting.budgets import BudgetTable
from interlock.accounting.ratelimits import RateLimits
from interlock.accounting.redis_budgets import RedisBudgetStore
from interlock.accounting.redis_ratelimits import RedisRateLimiter
from interlock.errors import BudgetExceeded, Overloaded


async def test_four_processes_share_one_budget(redis_url: str, redis_prefix: str, wall_clock) -> None:
    limits = BudgetTable()
    limits.set_team_budget("ml", Decimal("0.50"))
    clients = [Redis.from_url(redis_url) for _ in range(4)]
    stores = [RedisBudgetStore(c, limits, prefix=redis_prefix, clock=wall_clock) for c in clients]
    refused = 0

    async def call(store: RedisBudgetStore) -> None:
        nonlocal refused
        try:
            reservation = await store.reserve("key_x", "ml", Decimal("0.02"))
        except BudgetExceeded:
            refused += 1
            return
        await asyncio.sleep(0)
        await store.settle(reservation, Decimal("0.02"))

    try:
        await asyncio.gather(*(call(stores[i % 4]) for i in range(100)))
        [status] = await stores[0].status("key_x", "ml")
    finally:
        for client in clients:
            await client.aclose()

    assert status.spent_usd == Decimal("0.50")
    assert status.held_usd == 0
    assert refused == 75


async def test_unreachable_redis_fails_closed_as_overloaded(wall_clock) -> None:
    limits = BudgetTable()
    limits.set_key_budget("key_x", Decimal(1))
    client = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))
    store = RedisBudgetStore(client, limits, clock=wall_clock)
    try:
        with pytest.raises(Overloaded, match="budget store unavailable"):
            await store.reserve("key_x", None, Decimal("0.10"))
    finally:
        await client.aclose()


async def test_stores_opened_from_a_url_close_their_own_pool(
    redis_url: str, redis_prefix: str, wall_clock
) -> None:
    limits = BudgetTable()
    limits.set_key_budget("key_x", Decimal(1))
    store = RedisBudgetStore.from_url(redis_url, limits, prefix=redis_prefix, clock=wall_clock)
    limiter = RedisRateLimiter.from_url(redis_url, prefix=redis_prefix, clock=wall_clock)
    try:
        await store.settle(await store.reserve("key_x", None, Decimal("0.25")), Decimal("0.25"))
        await limiter.acquire("key_x", RateLimits(rpm=1), tokens=1)
        [status] = await store.status("key_x", None)
        assert status.spent_usd == Decimal("0.25")
    finally:
        await store.aclose()
        await limiter.aclose()


async def test_a_window_redis_lost_starts_again_from_the_ledger(redis_client: Redis, redis_prefix: str,
                                                               wall_clock) -> None:
    limits = BudgetTable()
    limits.set_key_budget("key_x", Decimal("0.50"))
    ledger = {"spent": Decimal("0.40")}  # what the ledger holds for this key's month
    reads = []

    def spent_before(budget, since):
        reads.append((budget.owner, since))
        return ledger["spent"]

    store = RedisBudgetStore(redis_client, limits, prefix=redis_prefix, clock=wall_clock, spent_before=spent_before)
    with pytest.raises(BudgetExceeded):
        await store.reserve("key_x", None, Decimal("0.20"))
    await store.settle(await store.reserve("key_x", None, Decimal("0.05")), Decimal("0.05"))
    [status] = await store.status("key_x", None)
    assert (status.spent_usd, status.held_usd) == (Decimal("0.45"), 0)
    assert len(reads) == 1  # seeded once, then counted in Redis

    ledger["spent"] = Decimal("0.45")  # the settled call reached the ledger
    await redis_client.delete(*[k async for k in redis_client.scan_iter(match=f"{redis_prefix}*")])  # Redis restarted
    with pytest.raises(BudgetExceeded, match=r"\$0\.4500 spent"):
        await store.reserve("key_x", None, Decimal("0.10"))
    assert len(reads) == 2


async def test_settling_into_a_window_not_yet_seeded_leaves_the_cost_to_the_ledger(
    redis_client: Redis, redis_prefix: str, wall_clock
) -> None:
    limits = BudgetTable()
    limits.set_key_budget("key_x", Decimal("1.00"))
    ledger = {"spent": Decimal(0)}
    store = RedisBudgetStore(redis_client, limits, prefix=redis_prefix, clock=wall_clock,
                             spent_before=lambda _budget, _since: ledger["spent"])
    reservation = await store.reserve("key_x", None, Decimal("0.30"))
    await redis_client.delete(*[k async for k in redis_client.scan_iter(match=f"{redis_prefix}*")])
    await store.settle(reservation, Decimal("0.30"))  # its ledger row is what seeding reads: never counted twice
    ledger["spent"] = Decimal("0.30")
    [status] = await store.status("key_x", None)
    assert (status.spent_usd, status.held_usd) == (Decimal("0.30"), 0)


async def test_without_a_ledger_counters_already_in_redis_are_kept(redis_client: Redis, redis_prefix: str,
                                                                  wall_clock) -> None:
    limits = BudgetTable()
    limits.set_key_budget("key_x", Decimal("1.00"))
    store = RedisBudgetStore(redis_client, limits, prefix=redis_prefix, clock=wall_clock)
    await store.settle(await store.reserve("key_x", None, Decimal("0.60")), Decimal("0.60"))
    await redis_client.delete(*[k async for k in redis_client.scan_iter(match=f"{redis_prefix}*:seeded")])
    with pytest.raises(BudgetExceeded):  # a counter from before seeding existed is not reset
        await store.reserve("key_x", None, Decimal("0.50"))
