"""Hangs end promptly: default first-token limit, no retry of a timeout, and one deadline per request."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable
from typing import Any

import pytest

from interlock.errors import AllCandidatesFailed, UpstreamTimeout
from interlock.resilience.clock import ManualClock
from interlock.resilience.failures import Outcome
from interlock.resilience.registry import DeploymentRegistry, ResilienceSettings
from interlock.resilience.timeouts import TimeoutSettings
from resilience.fakes import Behaviour, FakeProvider, collect, request, settle

HANG = Behaviour(hang=True)


async def drive(work: Awaitable[Any], clock: ManualClock, step: float = 1.0, limit: int = 1000) -> Any:
    """Run ``work`` while moving the manual clock forward ``step`` seconds at a time."""
    task = asyncio.ensure_future(work)
    for _ in range(limit):
        await settle()
        if task.done():
            return await task
        clock.advance(step)
    task.cancel()
    pytest.fail(f"still waiting after {limit * step:g}s of clock time")


def hanging_registry(
    clock: ManualClock, settings: ResilienceSettings, *names: str
) -> tuple[DeploymentRegistry, dict[str, FakeProvider]]:
    registry = DeploymentRegistry(settings, clock=clock, rng=random.Random(0))
    providers = {name: FakeProvider(name, default=HANG, clock=clock) for name in names}
    for name, provider in providers.items():
        registry.add(name, provider)
    return registry, providers


async def test_with_default_settings_hanging_streams_fail_over_after_30s_each() -> None:
    clock = ManualClock()
    registry, providers = hanging_registry(clock, ResilienceSettings(), "a", "b")
    start = clock.now()
    with pytest.raises(AllCandidatesFailed) as info:
        await drive(collect(registry.chain(["a", "b"]).stream(request())), clock)
    assert clock.now() - start == pytest.approx(60, abs=1.5)  # not minutes
    assert info.value.status == 504 and info.value.code == "timeout_first_token"
    assert [p.calls for p in providers.values()] == [1, 1]  # a timeout is not retried on the same deployment


async def test_one_deadline_bounds_every_attempt_of_a_request() -> None:
    clock = ManualClock()
    settings = ResilienceSettings(timeouts=TimeoutSettings(total=30), deadline_s=45)
    registry, providers = hanging_registry(clock, settings, "a", "b", "c")
    chain = registry.chain(["a", "b", "c"])
    with pytest.raises(UpstreamTimeout) as info:
        await drive(chain.complete(request()), clock)
    assert info.value.code == "timeout_deadline" and info.value.status == 504
    assert "deadline of 45s" in str(info.value)
    assert [(a.deployment, a.error_code) for a in chain.attempts] == [("a", "timeout_total"), ("b", "timeout_deadline")]
    assert chain.attempts[1].outcome is Outcome.TIMEOUT
    assert providers["c"].calls == 0
    # the deadline is the request's, not the deployment's fault: b's health and breaker hold nothing against it
    assert registry.health("b").snapshot().errors == 0 and registry.health("b").in_flight == 0
