"""Budget reservations, run against both stores (in memory and Redis) with one contract."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from interlock.accounting.budgets import BudgetTable
from interlock.accounting.periods import Period
from interlock.errors import BudgetExceeded, RateLimited

D = Decimal


def table(
    key_limit: str | None = None, team_limit: str | None = None, period: Period = Period.MONTH
) -> BudgetTable:
    limits = BudgetTable()
    if key_limit is not None:
        limits.set_key_budget("key_a", D(key_limit), period)
    if team_limit is not None:
        limits.set_team_budget("ml", D(team_limit), period)
    return limits


async def test_reserve_then_settle_charges_the_actual_cost(make_budget_store) -> None:
    store = make_budget_store(table(key_limit="1.00"))
    reservation = await store.reserve("key_a", "ml", D("0.40"))
    [held] = await store.status("key_a", "ml")
    assert (held.spent_usd, held.held_usd) == (D(0), D("0.40"))

    await store.settle(reservation, D("0.15"))
    [settled] = await store.status("key_a", "ml")
    assert (settled.spent_usd, settled.held_usd, settled.remaining_usd) == (D("0.15"), D(0), D("0.85"))


async def test_release_returns_the_hold_after_an_upstream_failure(make_budget_store) -> None:
    store = make_budget_store(table(key_limit="1.00"))
    reservation = await store.reserve("key_a", None, D("0.90"))
    with pytest.raises(BudgetExceeded):
        await store.reserve("key_a", None, D("0.20"))

    await store.release(reservation)
    [status] = await store.status("key_a", None)
    assert (status.spent_usd, status.held_usd) == (D(0), D(0))
    await store.reserve("key_a", None, D("0.90"))


async def test_refusal_is_a_429_naming_the_budget_and_its_reset(make_budget_store, wall_clock) -> None:
    store = make_budget_store(table(team_limit="5.00"))
    await store.settle(await store.reserve("key_a", "ml", D("4.50")), D("4.50"))

    with pytest.raises(BudgetExceeded) as caught:
        await store.reserve("key_a", "ml", D("0.75"))

    error = caught.value
    assert isinstance(error, RateLimited)
    assert (error.status, error.code, error.retryable) == (429, "budget_exceeded", False)
    assert error.to_openai()["error"]["code"] == "budget_exceeded"
    assert "team 'ml' monthly budget of $5.00" in error.message
    assert "resets at 2025-07-01T00:00:00Z" in error.message
    assert error.resets_at == datetime(2025, 7, 1, tzinfo=UTC)
    assert error.retry_after == (error.resets_at.timestamp() - wall_clock())
    assert error.headers() == {"retry-after": str(round(error.retry_after))}


async def test_the_tighter_of_key_and_team_budget_refuses(make_budget_store) -> None:
    store = make_budget_store(table(key_limit="10.00", team_limit="1.00"))
    with pytest.raises(BudgetExceeded, match="team 'ml'"):
        await store.reserve("key_a", "ml", D("2.00"))
    # Without a team only the key's budget applies.
    await store.reserve("key_a", None, D("2.00"))


async def test_a_refused_reservation_holds_nothing_anywhere(make_budget_store) -> None:
    store = make_budget_store(table(key_limit="10.00", team_limit="1.00"))
    with pytest.raises(BudgetExceeded):
        await store.reserve("key_a", "ml", D("2.00"))
    statuses = await store.status("key_a", "ml")
    assert [s.held_usd for s in statuses] == [D(0), D(0)]


async def test_a_new_period_starts_from_zero(make_budget_store, wall_clock) -> None:
    store = make_budget_store(table(key_limit="1.00", period=Period.DAY))
    await store.settle(await store.reserve("key_a", None, D("1.00")), D("1.00"))
    with pytest.raises(BudgetExceeded, match="resets at 2025-06-15T00:00:00Z"):
        await store.reserve("key_a", None, D("0.01"))

    wall_clock.set(datetime(2025, 6, 15, 0, 0, 0, tzinfo=UTC))
    await store.reserve("key_a", None, D("1.00"))


async def test_settling_after_the_period_rolled_over_charges_the_old_period(
    make_budget_store, wall_clock
) -> None:
    store = make_budget_store(table(key_limit="1.00", period=Period.DAY))
    wall_clock.set(datetime(2025, 6, 14, 23, 59, 59, tzinfo=UTC))
    reservation = await store.reserve("key_a", None, D("0.50"))
    wall_clock.advance(2)
    await store.settle(reservation, D("0.50"))
    [today] = await store.status("key_a", None)
    assert (today.spent_usd, today.held_usd) == (D(0), D(0))


async def test_a_hold_never_settled_expires(make_budget_store, wall_clock) -> None:
    store = make_budget_store(table(key_limit="1.00"), hold_ttl_s=60)
    await store.reserve("key_a", None, D("1.00"))  # the process "crashes" here
    with pytest.raises(BudgetExceeded):
        await store.reserve("key_a", None, D("0.10"))
    wall_clock.advance(61)
    await store.reserve("key_a", None, D("0.10"))


async def test_no_budget_means_no_limit_and_no_state(make_budget_store) -> None:
    store = make_budget_store(BudgetTable())
    reservation = await store.reserve("key_a", "ml", D("1000"))
    assert reservation.windows == ()
    await store.settle(reservation, D("999"))
    assert await store.status("key_a", "ml") == []


async def test_unpriced_calls_reserve_nothing(make_budget_store) -> None:
    store = make_budget_store(table(key_limit="0.00"))
    await store.settle(await store.reserve("key_a", None, D(0)), None)
    [status] = await store.status("key_a", None)
    assert status.spent_usd == D(0)


async def test_negative_amounts_are_refused(make_budget_store) -> None:
    store = make_budget_store(table(key_limit="1.00"))
    with pytest.raises(ValueError):
        await store.reserve("key_a", None, D("-0.01"))


async def test_100_concurrent_calls_never_pass_the_budget(make_budget_store) -> None:
    """Each call may cost up to $0.03 and really costs $0.02..0.03; the budget is $1."""
    store = make_budget_store(table(key_limit="1.00", team_limit="1.00"))
    max_cost = D("0.03")
    admitted: list[int] = []

    async def call(i: int) -> None:
        try:
            reservation = await store.reserve("key_a", "ml", max_cost)
        except BudgetExceeded:
            return
        admitted.append(i)
        await asyncio.sleep(0.001 * (i % 5))
        if i % 10 == 0:
            await store.release(reservation)  # an upstream failure
        else:
            await store.settle(reservation, D("0.02") + D("0.001") * (i % 11))

    await asyncio.gather(*(call(i) for i in range(100)))

    statuses = await store.status("key_a", "ml")
    for status in statuses:
        assert status.held_usd == 0
        assert status.spent_usd <= status.budget.limit_usd
    # Before anything settles, 33 holds of $0.03 fit in $1 and the 34th does not.
    assert len(admitted) >= 33


def test_budget_table_takes_a_key_record_period_as_text() -> None:
    limits = BudgetTable()
    limits.set_key_budget("key_a", D("5"), "day")  # as stored on an API key
    limits.set_team_budget("ml", D("50"))
    [key, team] = limits.budgets_for("key_a", "ml")
    assert (key.name, key.period, team.name) == (
        "key 'key_a' daily budget",
        Period.DAY,
        "team 'ml' monthly budget",
    )
    limits.set_key_budget("key_a", None)
    assert [b.scope for b in limits.budgets_for("key_a", "ml")] == ["team"]
