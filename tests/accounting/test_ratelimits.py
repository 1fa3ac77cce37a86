"""RPM/TPM limits: the window arithmetic, then one contract run against memory and Redis."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from interlock.accounting.ratelimits import RateLimits, seconds_until_admitted
from interlock.errors import InvalidRequest, RateLimited

MINUTE_START = datetime(2025, 6, 14, 12, 0, 0, tzinfo=UTC)


def test_sliding_window_weighs_the_previous_minute_by_its_overlap() -> None:
    # 10 in the previous minute, 1 in this one, 25% into it: 10*0.75 + 1 + 1 = 9.5 <= 10.
    assert seconds_until_admitted(10, 1, 1, 10, 0.25, sliding=True) == 0.0
    # 2 in this one: 10.5 > 10; admitted once 10*(1-f) + 3 <= 10, i.e. f = 0.3.
    assert seconds_until_admitted(10, 1, 2, 10, 0.25, sliding=True) == pytest.approx(3.0)
    # 4 in this minute: 7.5 + 4 + 1 > 10; admitted once previous*(1-f) <= 5, i.e. f = 0.5.
    assert seconds_until_admitted(10, 1, 4, 10, 0.25, sliding=True) == pytest.approx(15.0)


def test_sliding_window_that_is_full_this_minute_waits_into_the_next() -> None:
    # 10 of 10 already this minute, 50% in: next minute needs 10*(1-f) + 1 <= 10, f = 0.1.
    assert seconds_until_admitted(10, 1, 10, 0, 0.5, sliding=True) == pytest.approx(30 + 6)


def test_fixed_window_waits_for_the_next_minute() -> None:
    assert seconds_until_admitted(10, 1, 10, 99, 0.75, sliding=False) == pytest.approx(15.0)
    assert seconds_until_admitted(10, 1, 9, 99, 0.75, sliding=False) == 0.0


def test_limits_below_one_are_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="rpm must be at least 1"):
        RateLimits(rpm=0)


async def test_rpm_refuses_with_retry_after(rate_limiter, wall_clock) -> None:
    wall_clock.set(MINUTE_START)
    limits = RateLimits(rpm=3, window="fixed")
    for _ in range(3):
        await rate_limiter.acquire("key_a", limits, tokens=10)
    wall_clock.advance(45)
    with pytest.raises(RateLimited) as caught:
        await rate_limiter.acquire("key_a", limits, tokens=10)
    assert caught.value.retry_after == pytest.approx(15.0)
    assert caught.value.status == 429 and caught.value.code == "rate_limit_exceeded"
    assert "3 requests per minute" in caught.value.message
    wall_clock.advance(15)
    await rate_limiter.acquire("key_a", limits, tokens=10)


async def test_keys_are_limited_separately(rate_limiter, wall_clock) -> None:
    limits = RateLimits(rpm=1)
    await rate_limiter.acquire("key_a", limits, tokens=1)
    await rate_limiter.acquire("key_b", limits, tokens=1)
    with pytest.raises(RateLimited):
        await rate_limiter.acquire("key_a", limits, tokens=1)


async def test_sliding_window_admits_as_the_previous_minute_slides_out(rate_limiter, wall_clock) -> None:
    wall_clock.set(MINUTE_START)
    limits = RateLimits(rpm=4, window="sliding")
    for _ in range(4):
        await rate_limiter.acquire("key_a", limits, tokens=1)
    wall_clock.advance(60)  # a new minute, but the previous one still counts in full
    with pytest.raises(RateLimited) as caught:
        await rate_limiter.acquire("key_a", limits, tokens=1)
    assert caught.value.retry_after == pytest.approx(15.0)  # 4*(1-f) + 1 <= 4 at f = 0.25
    wall_clock.advance(15)
    await rate_limiter.acquire("key_a", limits, tokens=1)


async def test_tpm_counts_estimates_and_settles_to_actual_tokens(rate_limiter, wall_clock) -> None:
    wall_clock.set(MINUTE_START)
    limits = RateLimits(tpm=1000, window="fixed")
    ticket = await rate_limiter.acquire("key_a", limits, tokens=900)
    with pytest.raises(RateLimited, match="1000 tokens per minute"):
        await rate_limiter.acquire("key_a", limits, tokens=200)
    await rate_limiter.settle_tokens(ticket, actual_tokens=300)
    await rate_limiter.acquire("key_a", limits, tokens=700)


async def test_a_call_bigger_than_the_whole_minute_is_a_400_not_a_retry(rate_limiter) -> None:
    with pytest.raises(InvalidRequest) as caught:
        await rate_limiter.acquire("key_a", RateLimits(tpm=100), tokens=101)
    assert caught.value.status == 400 and not caught.value.retryable


async def test_no_limits_counts_nothing(rate_limiter) -> None:
    for _ in range(100):
        await rate_limiter.acquire("key_a", RateLimits(), tokens=10**6)
