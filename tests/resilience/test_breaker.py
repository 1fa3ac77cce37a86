from __future__ import annotations

import pytest

from interlock.errors import (
    CircuitOpen,
    InvalidRequest,
    UnsupportedParameter,
    UpstreamConnectionError,
    UpstreamHTTPError,
)
from interlock.resilience.breaker import BreakerSettings, BreakerState, CircuitBreaker
from interlock.resilience.clock import ManualClock
from resilience.fakes import Behaviour, FakeProvider, request
from resilience.fakes import guarded as guard

SETTINGS = BreakerSettings(
    consecutive_failures=3, error_rate=0.5, min_requests=10, window_s=30, cooldown_s=10
)


def make(**over: object) -> tuple[CircuitBreaker, ManualClock]:
    clock = ManualClock()
    return CircuitBreaker("vllm-a", clock, SETTINGS.model_copy(update=over)), clock


def test_opens_after_consecutive_failures_and_refuses_with_reason() -> None:
    breaker, _ = make()
    for _ in range(2):
        assert breaker.allow()
        breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow()
    with pytest.raises(CircuitOpen) as info:
        breaker.check()
    assert "3 consecutive failures" in str(info.value)
    assert info.value.retry_after == pytest.approx(10)
    assert info.value.deployment == "vllm-a"


def test_a_success_resets_the_consecutive_count() -> None:
    breaker, _ = make(error_rate=0.9)
    for _ in range(5):
        breaker.record_failure()
        breaker.record_failure()
        breaker.record_success()
    assert breaker.state is BreakerState.CLOSED


def test_opens_on_error_rate_only_after_min_requests() -> None:
    breaker, _ = make(consecutive_failures=100)
    for _ in range(4):
        breaker.record_success()
        breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED  # 50% but only 8 requests
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    assert "error rate 50% over 10 requests" in breaker.reason


def test_old_failures_leave_the_rate_window() -> None:
    breaker, clock = make(consecutive_failures=100)
    for _ in range(8):
        breaker.record_failure()
    clock.advance(31)
    breaker.record_success()
    breaker.record_success()
    breaker.record_failure()  # 9 of 11 failed if the old ones still counted
    assert breaker.state is BreakerState.CLOSED


def test_half_open_after_cooldown_limits_probes_then_closes_on_success() -> None:
    breaker, clock = make(half_open_probes=1)
    for _ in range(3):
        breaker.record_failure()
    clock.advance(9.9)
    assert not breaker.allow()
    clock.advance(0.1)
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow()
    assert not breaker.allow()  # one probe in flight
    with pytest.raises(CircuitOpen, match="probe"):
        breaker.check()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    assert all(breaker.allow() for _ in range(5))


def test_failed_probe_reopens_for_a_new_cooldown() -> None:
    breaker, clock = make()
    for _ in range(3):
        breaker.record_failure()
    clock.advance(10)
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN and breaker.reason == "probe failed"
    clock.advance(9)
    assert not breaker.allow()
    clock.advance(1)
    assert breaker.allow()


def test_released_probe_frees_its_slot() -> None:
    breaker, clock = make()
    for _ in range(3):
        breaker.record_failure()
    clock.advance(10)
    assert breaker.allow()
    breaker.release()
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow()


async def test_provider_behind_breaker_stops_traffic_probes_and_recovers() -> None:
    clock = ManualClock()
    down = Behaviour(error=UpstreamConnectionError("refused"))
    inner = FakeProvider("vllm-a", [down] * 3 + [down], clock=clock)
    guarded = guard(inner, clock, breaker=SETTINGS)

    for _ in range(3):
        with pytest.raises(UpstreamConnectionError):
            await guarded.complete(request())
    for _ in range(50):  # open: nothing reaches the upstream
        with pytest.raises(CircuitOpen):
            await guarded.complete(request())
    assert inner.calls == 3

    clock.advance(10)  # half-open: one probe, still down, reopens
    with pytest.raises(UpstreamConnectionError):
        await guarded.complete(request())
    assert inner.calls == 4
    with pytest.raises(CircuitOpen):
        await guarded.complete(request())

    clock.advance(10)  # upstream has recovered: the probe closes the breaker
    assert (await guarded.complete(request()))["model"] == "vllm-a"
    for _ in range(5):
        await guarded.complete(request())
    assert inner.calls == 10
    assert guarded.breaker.state is BreakerState.CLOSED
    states = [state for _, state, _ in guarded.breaker.transitions]
    assert states == ["open", "half_open", "open", "half_open", "closed"]


@pytest.mark.parametrize("error", [
    UpstreamHTTPError("bad", upstream_status=400),
    UnsupportedParameter("this deployment cannot honour n > 1", param="n"),
    InvalidRequest("the body cannot be encoded"),
])
async def test_client_caused_failures_do_not_trip_the_breaker(error: Exception) -> None:
    clock = ManualClock()
    guarded = guard(FakeProvider("a", default=Behaviour(error=error), clock=clock), clock, breaker=SETTINGS)
    for _ in range(10):
        with pytest.raises(type(error)):
            await guarded.complete(request())
    assert guarded.breaker.state is BreakerState.CLOSED


async def test_stream_break_counts_as_failure() -> None:
    clock = ManualClock()
    cut = Behaviour(fail_after=1, error=UpstreamConnectionError("cut"))
    guarded = guard(FakeProvider("a", default=cut, clock=clock), clock, breaker=SETTINGS)
    for _ in range(3):
        with pytest.raises(UpstreamConnectionError):
            async for _chunk in guarded.stream(request()):
                pass
    assert guarded.breaker.state is BreakerState.OPEN
