"""Real HTTP: the OpenAI-compatible provider against a fault-injecting upstream on loopback.

For every fault kind, streaming and not, a chain with a healthy fallback answers without a
client-visible failure; a break after the first chunk surfaces as an error, never a clean end.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator

import pytest

from interlock.config.deployments import OpenAIDeployment, Timeouts
from interlock.errors import AllCandidatesFailed, StreamInterrupted
from interlock.providers.openai_compat import OpenAICompatProvider
from interlock.resilience.breaker import BreakerSettings, BreakerState
from interlock.resilience.failures import Outcome
from interlock.resilience.hedging import HedgeSettings
from interlock.resilience.registry import DeploymentRegistry, ResilienceSettings
from interlock.resilience.retry import RetrySettings
from interlock.resilience.timeouts import TimeoutSettings
from resilience.fakes import collect, request
from resilience.faulty_upstream import FaultyUpstream

TIGHT = Timeouts(connect=1, first_token=0.15, stall=0.15, total=0.3)
GENEROUS = Timeouts(connect=2, first_token=5, stall=5, total=10)
SETTINGS = ResilienceSettings(
    retry=RetrySettings(max_attempts=2, base_delay_s=0.01, max_delay_s=0.05, max_retry_after_s=1),
    breaker=BreakerSettings(consecutive_failures=5, cooldown_s=60),
)

FAULTS = {
    "delay": "fault=delay&seconds=1",
    "hang": "fault=hang",
    "500": "fault=status&code=500",
    "503": "fault=status&code=503",
    "429": "fault=status&code=429&retry_after=30",
    "reset": "fault=reset",
    "cut": "fault=cut&after=0",
    "malformed": "fault=malformed",
    "wrong_type": "fault=wrong_type",
}


@pytest.fixture
async def upstream() -> AsyncIterator[FaultyUpstream]:
    server = FaultyUpstream()
    await server.start()
    yield server
    await server.stop()


def deployment(name: str, url: str, spec: str, timeouts: Timeouts = TIGHT) -> OpenAIDeployment:
    return OpenAIDeployment(
        type="openai",
        name=name,
        model="chat",
        vendor="test",
        perimeter="internal",
        context_window=4096,
        base_url=url + "/v1",
        upstream_model=spec,
        timeouts=timeouts,
        price={"type": "unknown"},
    )


async def build(
    url: str, specs: dict[str, str], settings: ResilienceSettings = SETTINGS
) -> DeploymentRegistry:
    """Faulty deployments get tight timeouts; the healthy one (spec ``ok``) generous ones."""
    reg = DeploymentRegistry(settings, rng=random.Random(0))
    for name, spec in specs.items():
        dep = deployment(name, url, spec, GENEROUS if spec == "ok" else TIGHT)
        reg.add(name, OpenAICompatProvider(dep), timeouts=TimeoutSettings.from_config(dep.timeouts))
    return reg


@pytest.mark.parametrize("streaming", [False, True], ids=["complete", "stream"])
@pytest.mark.parametrize("fault", list(FAULTS))
async def test_no_client_visible_failure_when_a_healthy_fallback_exists(
    upstream: FaultyUpstream, fault: str, streaming: bool
) -> None:
    reg = await build(upstream.url, {"broken": FAULTS[fault], "healthy": "ok"})
    try:
        chain = reg.chain(["broken", "healthy"])
        started = time.monotonic()
        if streaming:
            chunks = await collect(chain.stream(request()))
            text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
        else:
            text = (await chain.complete(request()))["choices"][0]["message"]["content"]
        assert "served by ok" in text
        assert time.monotonic() - started < 2
        attempts = chain.attempts
        assert attempts[-1].deployment == "healthy" and attempts[-1].outcome is Outcome.OK
        assert all(a.deployment == "broken" and a.outcome is not Outcome.OK for a in attempts[:-1])
        assert chain.report.headers()["x-interlock-fallback"].startswith("from=broken; reason=")
    finally:
        await reg.aclose()


async def test_a_cut_after_the_first_chunk_is_an_error_for_the_caller(upstream: FaultyUpstream) -> None:
    reg = await build(upstream.url, {"cutting": "fault=cut&after=2", "healthy": "ok"})
    try:
        chain = reg.chain(["cutting", "healthy"])
        got: list[dict] = []
        with pytest.raises(StreamInterrupted) as info:
            async for chunk in chain.stream(request()):
                got.append(chunk)
        assert len(got) == 2 and info.value.chunks_delivered == 2
        assert upstream.count("ok") == 0  # no silent switch to another answer mid-stream
    finally:
        await reg.aclose()


async def test_retry_after_is_honoured_on_the_same_deployment(upstream: FaultyUpstream) -> None:
    reg = await build(
        upstream.url, {"limited": "fault=status&code=429&retry_after=0.3&times=1", "healthy": "ok"}
    )
    try:
        chain = reg.chain(["limited", "healthy"])
        started = time.monotonic()
        result = await chain.complete(request())
        assert time.monotonic() - started >= 0.3
        assert "fault=status" in result["model"]
        assert [(a.deployment, a.try_number, a.error_code) for a in chain.attempts] == [
            ("limited", 1, "upstream_429"),
            ("limited", 2, None),
        ]
    finally:
        await reg.aclose()


async def test_client_errors_reach_the_caller_untouched(upstream: FaultyUpstream) -> None:
    from interlock.errors import UpstreamRejected

    reg = await build(upstream.url, {"strict": "fault=status&code=400", "healthy": "ok"})
    try:
        with pytest.raises(UpstreamRejected) as info:
            await reg.chain(["strict", "healthy"]).complete(request())
        assert info.value.upstream_status == 400 and info.value.status == 400
        assert "injected 400" in info.value.message and info.value.deployment == "strict"
        assert upstream.count("fault=status&code=400") == 1 and upstream.count("ok") == 0
    finally:
        await reg.aclose()


async def test_hedge_beats_a_hung_upstream_and_its_connection_is_dropped(upstream: FaultyUpstream) -> None:
    settings = SETTINGS.model_copy(update={"hedge": HedgeSettings(enabled=True, share=1.0, delay_s=0.05)})
    reg = DeploymentRegistry(settings, rng=random.Random(0))
    for name, spec in {"hung": "fault=hang", "healthy": "ok"}.items():
        reg.add(name, OpenAICompatProvider(deployment(name, upstream.url, spec, GENEROUS)))
    try:
        chain = reg.chain(["hung", "healthy"])
        chunks = await asyncio.wait_for(collect(chain.stream(request())), 2)
        assert chunks and chain.report.served_by == "healthy"
        assert chain.attempts[0].outcome is Outcome.HEDGE_LOST
        for _ in range(50):
            if upstream.disconnected:
                break
            await asyncio.sleep(0.01)
        assert upstream.disconnected == 1  # the loser's request was really cancelled upstream
    finally:
        await reg.aclose()


async def test_breaker_stops_traffic_to_a_dead_upstream(upstream: FaultyUpstream) -> None:
    reg = await build(upstream.url, {"dead": "fault=reset", "healthy": "ok"})
    try:
        for _ in range(20):
            await reg.chain(["dead", "healthy"]).complete(request())
        assert reg.breaker("dead").state is BreakerState.OPEN
        assert upstream.count("fault=reset") == 5  # 5 consecutive failures, then nothing
    finally:
        await reg.aclose()


async def test_thirty_percent_failing_upstream_with_fallback_loses_nothing(upstream: FaultyUpstream) -> None:
    settings = SETTINGS.model_copy(
        update={"breaker": BreakerSettings(consecutive_failures=50, error_rate=0.9)}
    )
    reg = await build(upstream.url, {"flaky": "fault=flaky&rate=0.3", "healthy": "ok"}, settings)
    try:

        async def one(i: int) -> bool:
            chain = reg.chain(["flaky", "healthy"])
            try:
                if i % 2:
                    await collect(chain.stream(request()))
                else:
                    await chain.complete(request())
            except AllCandidatesFailed:
                return False
            return True

        results = []
        for batch in range(10):  # 200 requests, 20 at a time: load, not a stampede on two cores
            results += await asyncio.gather(*(one(batch * 20 + i) for i in range(20)))
        assert all(results)
        assert upstream.count("ok") > 0  # the fallback really served some
    finally:
        await reg.aclose()
