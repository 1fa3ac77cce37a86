from __future__ import annotations

import asyncio

import pytest
from pydantic import ValidationError

from interlock.config.deployments import Timeouts
from interlock.errors import UpstreamTimeout
from interlock.resilience.clock import ManualClock, MonotonicClock
from interlock.resilience.guard import GuardedProvider
from interlock.resilience.timeouts import StreamLimits, TimeoutSettings
from resilience.fakes import Behaviour, FakeProvider, collect, guarded, request, settle, texts

LIMITS = TimeoutSettings(first_token=1.0, stall=0.5, total=5.0)


async def run_stream(provider: GuardedProvider, clock: ManualClock, step: float, steps: int) -> list[dict]:
    """Consume a stream while moving the manual clock forward ``steps`` times by ``step``."""
    task = asyncio.create_task(collect(provider.stream(request())))
    for _ in range(steps):
        await settle()
        if task.done():
            break
        clock.advance(step)
    await settle()
    return await task


async def test_first_token_limit_fires_and_names_itself() -> None:
    clock = ManualClock()
    inner = FakeProvider("a", [Behaviour(delay=1.5)], clock=clock)
    with pytest.raises(UpstreamTimeout) as info:
        await run_stream(guarded(inner, clock, timeouts=LIMITS), clock, 0.25, 10)
    assert info.value.code == "timeout_first_token"
    assert "first token timeout of 1s" in str(info.value)
    assert inner.cancelled == 1 and inner.closed_streams == 1


async def test_stall_between_chunks_fires() -> None:
    clock = ManualClock()
    inner = FakeProvider("a", [Behaviour(stall_after=2)], clock=clock)
    with pytest.raises(UpstreamTimeout) as info:
        await run_stream(guarded(inner, clock, timeouts=LIMITS), clock, 0.25, 10)
    assert info.value.code == "timeout_stall"


async def test_total_limit_fires_even_when_chunks_keep_coming() -> None:
    clock = ManualClock()
    inner = FakeProvider("a", [Behaviour(chunks=100, stall_after=None)], clock=clock)

    async def slow_drip() -> list[dict]:
        out = []
        async for chunk in guarded(inner, clock, timeouts=TimeoutSettings(stall=1, total=2)).stream(
            request()
        ):
            out.append(chunk)
            clock.advance(0.3)  # each chunk arrives 0.3s after the last: under the stall limit
        return out

    with pytest.raises(UpstreamTimeout) as info:
        await slow_drip()
    assert info.value.code == "timeout_total"


async def test_a_healthy_stream_passes_through_untouched() -> None:
    clock = MonotonicClock()
    inner = FakeProvider("a", [Behaviour(delay=0.01)], clock=clock)
    chunks = await collect(guarded(inner, clock, timeouts=LIMITS).stream(request()))
    assert texts(chunks) == ["a:0", "a:1", "a:2"]


async def test_complete_is_bounded_by_total_on_the_real_clock() -> None:
    clock = MonotonicClock()
    inner = FakeProvider("a", [Behaviour(hang=True)], clock=clock)
    provider = guarded(inner, clock, timeouts=TimeoutSettings(total=0.05))
    with pytest.raises(UpstreamTimeout) as info:
        await provider.complete(request())
    assert info.value.code == "timeout_total" and inner.cancelled == 1


async def test_an_inner_timeout_error_is_not_mistaken_for_ours() -> None:
    class TimesOut(FakeProvider):
        async def complete(self, request: object) -> dict:  # type: ignore[override]
            raise TimeoutError("the provider's own")

    with pytest.raises(TimeoutError, match="the provider's own"):
        await guarded(TimesOut("a"), MonotonicClock(), timeouts=TimeoutSettings(total=5)).complete(request())


def test_settings_are_strict_and_read_the_deployment_config() -> None:
    with pytest.raises(ValidationError):
        TimeoutSettings(first_tokn=1)  # type: ignore[call-arg]
    from_config = TimeoutSettings.from_config(Timeouts(connect=2, first_token=3, stall=1, total=60))
    assert from_config == TimeoutSettings(connect=2, first_token=3, stall=1, total=60)


def test_route_limits_only_tighten() -> None:
    deployment = TimeoutSettings(connect=5, first_token=10, stall=None, total=300)
    route = TimeoutSettings(connect=None, first_token=2, stall=1, total=None)
    limits = StreamLimits.of(deployment, route)
    assert (limits.first_token, limits.stall, limits.total) == (2, 1, 300)
    assert [limits.by_route(name) for name in ("first_token", "stall", "total")] == [True, True, False]
    tie = StreamLimits.of(deployment, TimeoutSettings(total=300))
    assert not tie.by_route("total")  # a tie is the deployment's own limit
