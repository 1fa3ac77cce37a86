from __future__ import annotations

import random
from collections.abc import AsyncIterator

import pytest

from interlock.errors import (
    CircuitOpen,
    RateLimited,
    UpstreamConnectionError,
    UpstreamHTTPError,
    UpstreamTimeout,
)
from interlock.providers.base import ChatRequest, Provider
from interlock.providers.wrapped import WrappedProvider
from interlock.resilience.budget import BudgetSettings, RatioBudget
from interlock.resilience.clock import Clock, ManualClock
from interlock.resilience.retry import RetryPolicy, RetrySettings
from interlock.resilience.streams import closing
from interlock.types import JSON
from resilience.fakes import Behaviour, FakeProvider, collect, request, texts


class RetryingProvider(WrappedProvider):
    """A test harness: one provider retried by ``policy`` alone, the way the fallback chain retries one
    deployment. Streams are retried only before their first chunk."""

    def __init__(self, inner: Provider, policy: RetryPolicy, clock: Clock) -> None:
        super().__init__(inner)
        self.policy = policy
        self._clock = clock
        self.attempts = 0

    async def complete(self, request: ChatRequest) -> JSON:
        if self.policy.budget is not None:
            self.policy.budget.record_request()
        attempt = 0
        while True:
            attempt += 1
            self.attempts += 1
            try:
                return await self.inner.complete(request)
            except Exception as exc:
                delay = self.policy.delay_before_retry(exc, attempt)
                if delay is None:
                    raise
            await self._clock.sleep(delay)

    async def stream(self, request: ChatRequest) -> AsyncIterator[JSON]:
        if self.policy.budget is not None:
            self.policy.budget.record_request()
        attempt = 0
        while True:
            attempt += 1
            self.attempts += 1
            async with closing(self.inner.stream(request)) as chunks:
                try:
                    first = await anext(chunks)
                except StopAsyncIteration:
                    return
                except Exception as exc:
                    delay = self.policy.delay_before_retry(exc, attempt)
                    if delay is None:
                        raise
                else:
                    yield first
                    async for chunk in chunks:
                        yield chunk
                    return
            await self._clock.sleep(delay)


def retrying(
    inner: FakeProvider, clock: ManualClock, budget: RatioBudget | None = None, **over: object
) -> RetryingProvider:
    settings = RetrySettings(max_attempts=3, base_delay_s=0.1, max_delay_s=1.0).model_copy(update=over)
    return RetryingProvider(inner, RetryPolicy(settings, budget=budget, rng=random.Random(7)), clock)


@pytest.mark.parametrize(
    "error",
    [
        UpstreamHTTPError("x", upstream_status=500),
        UpstreamHTTPError("x", upstream_status=502),
        UpstreamHTTPError("x", upstream_status=503),
        UpstreamHTTPError("x", upstream_status=504),
        UpstreamHTTPError("x", upstream_status=429),
        UpstreamConnectionError("reset"),
        RateLimited("slow down"),
    ],
)
async def test_retryable_failures_are_retried(error: Exception) -> None:
    clock = ManualClock(auto_advance=True)
    inner = FakeProvider("a", [Behaviour(error=error)], clock=clock)
    result = await retrying(inner, clock).complete(request())
    assert result["model"] == "a" and inner.calls == 2
    assert len(clock.sleeps) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 422])
async def test_client_errors_are_never_retried(status: int) -> None:
    clock = ManualClock(auto_advance=True)
    inner = FakeProvider(
        "a", default=Behaviour(error=UpstreamHTTPError("no", upstream_status=status)), clock=clock
    )
    with pytest.raises(UpstreamHTTPError):
        await retrying(inner, clock).complete(request())
    assert inner.calls == 1 and clock.sleeps == []


@pytest.mark.parametrize("code", ["timeout_first_token", "timeout_stall", "timeout_total", None])
async def test_a_timeout_is_not_retried_on_the_same_deployment(code: str | None) -> None:
    # a deployment that just hung would most likely hang again: the next one is the better bet
    clock = ManualClock(auto_advance=True)
    inner = FakeProvider("a", default=Behaviour(error=UpstreamTimeout("hung", code=code)), clock=clock)
    with pytest.raises(UpstreamTimeout):
        await retrying(inner, clock).complete(request())
    assert inner.calls == 1 and clock.sleeps == []


async def test_open_circuit_is_not_retried_on_the_same_deployment() -> None:
    clock = ManualClock(auto_advance=True)
    inner = FakeProvider("a", default=Behaviour(error=CircuitOpen("open")), clock=clock)
    with pytest.raises(CircuitOpen):
        await retrying(inner, clock).complete(request())
    assert inner.calls == 1


async def test_retry_waits_at_least_retry_after() -> None:
    clock = ManualClock(auto_advance=True)
    limited = UpstreamHTTPError("slow down", upstream_status=429, retry_after=1.5)
    inner = FakeProvider("a", [Behaviour(error=limited)], clock=clock)
    await retrying(inner, clock).complete(request())
    assert clock.sleeps == [1.5]


async def test_retry_after_longer_than_the_limit_gives_up_here() -> None:
    clock = ManualClock(auto_advance=True)
    limited = UpstreamHTTPError("slow down", upstream_status=429, retry_after=30)
    inner = FakeProvider("a", default=Behaviour(error=limited), clock=clock)
    with pytest.raises(UpstreamHTTPError):
        await retrying(inner, clock, max_retry_after_s=5).complete(request())
    assert inner.calls == 1 and clock.sleeps == []


def test_backoff_is_jittered_exponential_and_capped() -> None:
    policy = RetryPolicy(RetrySettings(base_delay_s=0.1, max_delay_s=1.0), rng=random.Random(1))
    for attempt, ceiling in [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.8), (5, 1.0), (9, 1.0)]:
        delays = [policy.backoff(attempt) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8  # jitter spreads over the whole range
    again = RetryPolicy(RetrySettings(base_delay_s=0.1), rng=random.Random(1))
    first = RetryPolicy(RetrySettings(base_delay_s=0.1), rng=random.Random(1))
    assert [again.backoff(3) for _ in range(5)] == [first.backoff(3) for _ in range(5)]


async def test_retry_budget_caps_retries_under_a_full_outage() -> None:
    clock = ManualClock(auto_advance=True)
    inner = FakeProvider(
        "a", default=Behaviour(error=UpstreamHTTPError("down", upstream_status=503)), clock=clock
    )
    budget = RatioBudget(clock, BudgetSettings(ratio=0.2, min_per_window=3, window_s=3600))
    provider = retrying(inner, clock, budget=budget, max_attempts=5)
    requests = 500
    for _ in range(requests):
        with pytest.raises(UpstreamHTTPError):
            await provider.complete(request())
    retries = inner.calls - requests
    assert retries <= 0.2 * requests + 3
    assert retries >= 0.2 * requests  # the budget is used, not starved
    assert budget.refused() > 0


async def test_stream_is_retried_only_before_its_first_chunk() -> None:
    clock = ManualClock(auto_advance=True)
    inner = FakeProvider(
        "a",
        [
            Behaviour(error=UpstreamConnectionError("refused")),
            Behaviour(fail_after=1, error=UpstreamConnectionError("cut")),
        ],
        clock=clock,
    )
    provider = retrying(inner, clock)
    seen: list[dict] = []
    with pytest.raises(UpstreamConnectionError, match="cut"):
        async for chunk in provider.stream(request()):
            seen.append(chunk)
    assert texts(seen) == ["a:0"] and inner.calls == 2
    assert texts(await collect(provider.stream(request()))) == ["a:0", "a:1", "a:2"]
