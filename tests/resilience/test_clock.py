from __future__ import annotations

import asyncio

import pytest

from interlock.resilience.clock import ManualClock, MonotonicClock
from resilience.fakes import settle


async def test_manual_sleep_wakes_only_when_time_reaches_it() -> None:
    clock = ManualClock()
    task = asyncio.create_task(clock.sleep(5))
    await settle()
    clock.advance(4.9)
    await settle()
    assert not task.done()
    clock.advance(0.1)
    await settle()
    assert task.done()


async def test_manual_timeout_cancels_the_block_and_raises_timeout_error() -> None:
    clock = ManualClock()

    async def slow() -> None:
        async with clock.timeout(2):
            await asyncio.Event().wait()

    task = asyncio.create_task(slow())
    await settle()
    clock.advance(2)
    await settle()
    with pytest.raises(TimeoutError):
        await task


async def test_manual_timeout_that_does_not_fire_leaves_the_result() -> None:
    clock = ManualClock(auto_advance=True)
    deadline = clock.timeout(5)
    async with deadline:
        await clock.sleep(1)
    assert not deadline.expired()
    assert clock.sleeps == [1]
    clock.advance(10)  # the cancelled timer must not fire later
    await settle()


async def test_auto_advance_moves_time_by_each_sleep() -> None:
    clock = ManualClock(start=0, auto_advance=True)
    await clock.sleep(1.5)
    await clock.sleep(0.5)
    assert clock.now() == 2.0
    assert clock.sleeps == [1.5, 0.5]


async def test_real_clock_timeout_reports_expiry() -> None:
    clock = MonotonicClock()
    deadline = clock.timeout(0.01)
    with pytest.raises(TimeoutError):
        async with deadline:
            await asyncio.sleep(1)
    assert deadline.expired()


@pytest.mark.parametrize("clock_kind", ["real", "manual"])
async def test_a_rescheduled_deadline_fires_only_once_its_latest_time_passes(clock_kind: str) -> None:
    clock = MonotonicClock() if clock_kind == "real" else ManualClock(auto_advance=True)
    deadline = clock.timeout(0.05)
    async with deadline:
        for _ in range(6):  # 0.12 s in all: past the first limit, never past a moved one
            await clock.sleep(0.02)
            deadline.reschedule_in(0.05)
        deadline.reschedule_in(None)  # disarmed: a pause as long as we like
        await clock.sleep(0.1)
    assert not deadline.expired()
    deadline = clock.timeout(None)
    with pytest.raises(TimeoutError):
        async with deadline:
            deadline.reschedule_in(0.01)
            await clock.sleep(1)
    assert deadline.expired()


async def test_an_outer_cancel_is_not_taken_for_the_deadline() -> None:
    clock = MonotonicClock()

    async def waits() -> None:
        async with clock.timeout(5):
            await asyncio.sleep(5)

    task = asyncio.create_task(waits())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
