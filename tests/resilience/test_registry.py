from __future__ import annotations

import random

import pytest

from interlock.errors import UpstreamConnectionError
from interlock.resilience.breaker import BreakerSettings, BreakerState
from interlock.resilience.clock import ManualClock
from interlock.resilience.failures import Outcome
from interlock.resilience.registry import DeploymentRegistry, ResilienceSettings
from interlock.resilience.retry import RetrySettings
from interlock.resilience.timeouts import TimeoutSettings
from resilience.fakes import Behaviour, FakeProvider, collect, request

SETTINGS = ResilienceSettings(
    breaker=BreakerSettings(consecutive_failures=3, cooldown_s=30),
    retry=RetrySettings(max_attempts=1),
)


def registry(clock: ManualClock, **providers: FakeProvider) -> DeploymentRegistry:
    reg = DeploymentRegistry(SETTINGS, clock=clock, rng=random.Random(0))
    for name, provider in providers.items():
        reg.add(name, provider)
    return reg


async def test_an_open_breaker_sends_requests_straight_to_the_fallback_then_recovers() -> None:
    clock = ManualClock(auto_advance=True)
    local = FakeProvider("local", [Behaviour(error=UpstreamConnectionError("refused"))] * 4, clock=clock)
    vendor = FakeProvider("vendor", clock=clock)
    reg = registry(clock, local=local, vendor=vendor)

    for _ in range(3):
        assert (await reg.chain(["local", "vendor"]).complete(request()))["model"] == "vendor"
    assert reg.breaker("local").state is BreakerState.OPEN

    c = reg.chain(["local", "vendor"])
    await c.complete(request())
    assert c.attempts[0].outcome is Outcome.CIRCUIT_OPEN and local.calls == 3

    clock.advance(30)  # half-open probe fails (4th scripted failure), then succeeds after the next cooldown
    await reg.chain(["local", "vendor"]).complete(request())
    assert reg.breaker("local").state is BreakerState.OPEN
    clock.advance(30)
    c = reg.chain(["local", "vendor"])
    assert (await c.complete(request()))["model"] == "local"
    assert reg.breaker("local").state is BreakerState.CLOSED and not c.report.fell_back


async def test_tiers_balance_replicas_and_the_filter_applies() -> None:
    clock = ManualClock(auto_advance=True)
    reg = registry(clock, **{n: FakeProvider(n, clock=clock) for n in ("r1", "r2", "vendor", "other-region")})
    reg.health("r1").started()
    reg.health("r1").succeeded(2.0)
    reg.health("r2").started()
    reg.health("r2").succeeded(0.1)
    assert reg.plan([["r1", "r2"], "vendor"]) == ["r2", "r1", "vendor"]
    c = reg.chain([["r1", "r2"], "vendor", "other-region"], allow=lambda n: n != "other-region")
    assert c.report.planned == ["r2", "r1", "vendor", "other-region"]
    assert c.report.skipped == [("other-region", "filtered")]


async def test_latency_target_spills_over_to_the_next_candidate() -> None:
    clock = ManualClock(auto_advance=True)
    reg = registry(
        clock, local=FakeProvider("local", clock=clock), vendor=FakeProvider("vendor", clock=clock)
    )
    for name, latency in (("local", 0.5), ("vendor", 0.8)):
        reg.health(name).started()
        reg.health(name).succeeded(latency)
    for _ in range(3):
        reg.health("local").started()  # 4 x 0.5s expected
    c = reg.chain(["local", "vendor"], latency_target_s=1.0)
    assert (await c.complete(request()))["model"] == "vendor"

    batching = DeploymentRegistry(SETTINGS, clock=clock, rng=random.Random(0))
    batching.add("local", FakeProvider("local", clock=clock), concurrency=8)
    batching.add("vendor", FakeProvider("vendor", clock=clock))
    batching.health("local").started()
    batching.health("local").succeeded(0.5)
    for _ in range(3):
        batching.health("local").started()  # 4 in flight on a server that serves 8 at once
    assert batching.plan(["local", "vendor"], latency_target_s=1.0) == ["local", "vendor"]


async def test_route_timeouts_do_not_count_against_the_deployment() -> None:
    clock = ManualClock(auto_advance=True)
    slow = FakeProvider("slow", default=Behaviour(delay=5), clock=clock)
    reg = registry(clock, slow=slow, vendor=FakeProvider("vendor", clock=clock))
    for _ in range(5):
        c = reg.chain(["slow", "vendor"], timeouts=TimeoutSettings(total=1))
        assert (await c.complete(request()))["model"] == "vendor"
        assert c.attempts[0].error_code == "timeout_total"
    assert reg.breaker("slow").state is BreakerState.CLOSED
    assert reg.health("slow").snapshot().errors == 0


async def test_snapshot_and_metrics_cover_every_deployment() -> None:
    clock = ManualClock(auto_advance=True)
    reg = registry(clock, a=FakeProvider("a", clock=clock), b=FakeProvider("b", clock=clock))
    await collect(reg.chain(["a"]).stream(request()))
    statuses = {s.health.deployment: s for s in reg.snapshot()}
    assert statuses["a"].health.requests == 1 and statuses["a"].breaker is BreakerState.CLOSED
    assert statuses["a"].to_dict()["breaker"] == "closed"
    samples = [(s.name, s.labels["deployment"], s.value) for s in reg.metric_samples()]
    assert ("interlock_breaker_state", "b", 0.0) in samples
    assert ("interlock_deployment_window_requests", "a", 1.0) in samples


async def test_registry_refuses_duplicates_and_unknown_names() -> None:
    clock = ManualClock()
    reg = registry(clock, a=FakeProvider("a", clock=clock))
    with pytest.raises(ValueError, match="already registered"):
        reg.add("a", FakeProvider("a"))
    with pytest.raises(KeyError, match="known: \\['a'\\]"):
        reg.chain(["nope"])


async def test_aclose_closes_the_providers() -> None:
    clock = ManualClock()
    a = FakeProvider("a", clock=clock)
    reg = registry(clock, a=a)
    await reg.aclose()
    assert a.closed
