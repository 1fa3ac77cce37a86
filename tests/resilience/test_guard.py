"""One guard per deployment: breaker, limits, finish reason and health, each verdict recorded once."""

from __future__ import annotations

import asyncio

import pytest

from interlock.errors import CircuitOpen, UpstreamMalformed, UpstreamTimeout
from interlock.resilience.breaker import BreakerSettings, BreakerState
from interlock.resilience.clock import ManualClock, MonotonicClock
from interlock.resilience.timeouts import TimeoutSettings
from resilience.fakes import Behaviour, FakeProvider, collect, guarded, request, settle, texts

TRIP_AT_ONCE = BreakerSettings(consecutive_failures=1, min_requests=100)


async def test_a_stream_is_judged_once_at_its_end() -> None:
    clock = ManualClock(auto_advance=True)
    provider = guarded(FakeProvider("a", [Behaviour(delay=0.25)], clock=clock), clock)
    assert texts(await collect(provider.stream(request()))) == ["a:0", "a:1", "a:2"]
    snap = provider.health.snapshot()
    assert (snap.requests, snap.errors, snap.in_flight) == (1, 0, 0)
    assert snap.ttft_p95_s == pytest.approx(0.25)
    assert provider.breaker.state is BreakerState.CLOSED


async def test_a_stream_without_a_finish_reason_is_a_failure_of_the_deployment() -> None:
    clock = ManualClock()
    inner = FakeProvider("a", default=Behaviour(finish=False), clock=clock)
    provider = guarded(inner, clock, breaker=TRIP_AT_ONCE)
    with pytest.raises(UpstreamMalformed) as info:
        await collect(provider.stream(request()))
    assert info.value.code == "stream_without_finish_reason"
    assert provider.health.snapshot().errors == 1
    assert provider.breaker.state is BreakerState.OPEN
    with pytest.raises(CircuitOpen):  # refused before health sees anything
        await anext(provider.stream(request()))
    assert provider.health.snapshot().requests == 1 and provider.health.in_flight == 0


async def test_without_the_requirement_a_stream_may_end_without_a_finish_reason() -> None:
    clock = ManualClock()
    provider = guarded(FakeProvider("a", default=Behaviour(finish=False), clock=clock), clock,
                       require_finish_reason=False)
    assert len(await collect(provider.stream(request()))) == 3


async def test_a_route_limit_firing_is_not_held_against_the_deployment() -> None:
    clock = MonotonicClock()
    inner = FakeProvider("a", default=Behaviour(delay=0.5), clock=clock)
    own = guarded(inner, clock, breaker=TRIP_AT_ONCE)
    route_view = own.for_route(TimeoutSettings(first_token=0.02, total=0.03))
    with pytest.raises(UpstreamTimeout) as info:
        await collect(route_view.stream(request()))
    assert info.value.code == "timeout_first_token"
    with pytest.raises(UpstreamTimeout) as info:
        await route_view.complete(request())
    assert info.value.code == "timeout_total"
    assert own.health.snapshot().errors == 0 and own.health.in_flight == 0
    assert own.breaker.state is BreakerState.CLOSED
    # the deployment's own limit firing is its failure
    strict = guarded(inner, clock, timeouts=TimeoutSettings(first_token=0.02), breaker=TRIP_AT_ONCE)
    with pytest.raises(UpstreamTimeout):
        await collect(strict.stream(request()))
    assert strict.health.snapshot().errors == 1 and strict.breaker.state is BreakerState.OPEN


async def test_the_callers_pauses_are_not_stalls() -> None:
    clock = MonotonicClock()
    provider = guarded(FakeProvider("a", clock=clock), clock, timeouts=TimeoutSettings(stall=0.02))
    out = []
    async for chunk in provider.stream(request()):
        out.append(chunk)
        await asyncio.sleep(0.05)  # longer than the stall limit, but the upstream is not waited on
    assert texts(out) == ["a:0", "a:1", "a:2"]


async def test_a_stream_read_on_by_another_task_keeps_its_stall_limit() -> None:
    clock = MonotonicClock()
    inner = FakeProvider("a", [Behaviour(stall_after=1)], clock=clock)
    provider = guarded(inner, clock, timeouts=TimeoutSettings(stall=0.05))
    stream = provider.stream(request())
    assert texts([await anext(stream)]) == ["a:0"]  # the first chunk in this task

    async def rest() -> list[dict]:
        return await collect(stream)

    with pytest.raises(UpstreamTimeout) as info:
        await asyncio.wait_for(asyncio.create_task(rest()), 2)  # the rest in another: the limit follows it
    assert info.value.code == "timeout_stall"
    assert inner.cancelled == 1


async def test_an_abandoned_stream_is_no_verdict_and_closes_the_upstream() -> None:
    clock = ManualClock()
    inner = FakeProvider("a", clock=clock)
    provider = guarded(inner, clock, breaker=TRIP_AT_ONCE)
    stream = provider.stream(request())
    await anext(stream)
    assert provider.health.in_flight == 1
    await stream.aclose()
    await settle()
    assert inner.closed_streams == 1
    assert provider.health.in_flight == 0 and provider.health.snapshot().requests == 0
    assert provider.breaker.state is BreakerState.CLOSED


async def test_the_guard_owns_its_provider_and_a_route_view_does_not() -> None:
    clock = ManualClock()
    inner = FakeProvider("a", clock=clock)
    provider = guarded(inner, clock)
    assert provider.for_route(None) is provider
    await provider.for_route(TimeoutSettings(total=1)).aclose()
    assert not inner.closed
    await provider.aclose()
    assert inner.closed
