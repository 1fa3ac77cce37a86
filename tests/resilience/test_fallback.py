from __future__ import annotations

import asyncio
import random

import pytest

from interlock.errors import (
    AllCandidatesFailed,
    NoEligibleDeployment,
    StreamInterrupted,
    UpstreamConnectionError,
    UpstreamHTTPError,
    UpstreamRejected,
    UpstreamTimeout,
)
from interlock.resilience.budget import BudgetSettings, RatioBudget
from interlock.resilience.clock import ManualClock, MonotonicClock
from interlock.resilience.failures import Outcome
from interlock.resilience.fallback import ChainPolicy, FallbackChain
from interlock.resilience.hedging import HedgeSettings
from interlock.resilience.retry import RetryPolicy, RetrySettings
from resilience.fakes import Behaviour, FakeProvider, collect, request, texts

DOWN = Behaviour(error=UpstreamHTTPError("down", upstream_status=503))


def chain(*providers: FakeProvider, retries: int = 1, **kw: object) -> FallbackChain:
    clock = providers[0].clock if providers else ManualClock(auto_advance=True)
    policy = RetryPolicy(RetrySettings(max_attempts=retries), rng=random.Random(0))
    return FallbackChain(
        [(p.name, p) for p in providers],
        ChainPolicy(clock=clock, retry_for=lambda _: policy),
        **kw,  # type: ignore[arg-type]
    )


async def test_falls_back_on_an_upstream_failure_and_reports_why() -> None:
    local, vendor = FakeProvider("local", default=DOWN), FakeProvider("vendor")
    c = chain(local, vendor)
    assert (await c.complete(request()))["model"] == "vendor"
    assert [(a.deployment, a.outcome, a.error_code) for a in c.attempts] == [
        ("local", Outcome.UPSTREAM_ERROR, "upstream_503"),
        ("vendor", Outcome.OK, None),
    ]
    headers = c.report.headers()
    assert headers["x-interlock-fallback"] == "from=local; reason=upstream_503"
    assert headers["x-interlock-attempts"].startswith("local;outcome=upstream_error;ms=")
    assert "vendor;outcome=ok" in headers["x-interlock-attempts"]


async def test_no_fallback_header_when_the_first_choice_serves() -> None:
    c = chain(FakeProvider("local"), FakeProvider("vendor"))
    await c.complete(request())
    assert "x-interlock-fallback" not in c.report.headers()
    assert c.report.served_by == "local" and not c.report.fell_back


async def test_retries_the_same_deployment_before_moving_on() -> None:
    clock = ManualClock(auto_advance=True)
    local = FakeProvider("local", [DOWN], clock=clock)
    c = chain(local, FakeProvider("vendor", clock=clock), retries=2)
    assert (await c.complete(request()))["model"] == "local"
    assert [(a.deployment, a.try_number, a.outcome) for a in c.attempts] == [
        ("local", 1, Outcome.UPSTREAM_ERROR),
        ("local", 2, Outcome.OK),
    ]
    assert len(clock.sleeps) == 1


async def test_a_client_error_is_passed_on_without_fallback() -> None:
    bad = Behaviour(error=UpstreamHTTPError("bad field", upstream_status=400))
    local, vendor = FakeProvider("local", default=bad), FakeProvider("vendor")
    c = chain(local, vendor, retries=3)
    with pytest.raises(UpstreamRejected) as info:
        await c.complete(request())
    assert info.value.upstream_status == 400 and info.value.status == 400  # the client's to fix: a 4xx
    assert local.calls == 1 and vendor.calls == 0


@pytest.mark.parametrize("status", [401, 403, 404])
async def test_deployment_scoped_4xx_falls_back(status: int) -> None:
    local = FakeProvider("local", default=Behaviour(error=UpstreamHTTPError("key", upstream_status=status)))
    assert (await chain(local, FakeProvider("vendor")).complete(request()))["model"] == "vendor"


async def test_the_filter_is_never_crossed_even_when_everything_else_fails() -> None:
    local, external = FakeProvider("local", default=DOWN), FakeProvider("external")
    c = chain(local, external, allow=lambda name: name != "external")
    with pytest.raises(AllCandidatesFailed):
        await c.complete(request())
    assert external.calls == 0
    assert c.report.skipped == [("external", "filtered")]


async def test_nothing_eligible_is_its_own_error() -> None:
    c = chain(FakeProvider("external"), allow=lambda name: False)
    with pytest.raises(NoEligibleDeployment):
        await c.complete(request())


async def test_all_failing_raises_every_failure_with_the_most_relevant_first() -> None:
    limited = UpstreamHTTPError("slow down", upstream_status=429, retry_after=7)
    a = FakeProvider("a", default=DOWN)
    b = FakeProvider("b", default=Behaviour(error=limited))
    c_ = FakeProvider("c", default=Behaviour(error=UpstreamConnectionError("refused")))
    c = chain(a, b, c_)
    with pytest.raises(AllCandidatesFailed) as info:
        await c.complete(request())
    err = info.value
    assert [name for name, _ in err.failures] == ["a", "b", "c"]
    assert err.primary is b.default.error and err.status == 429 and err.retry_after == 7
    assert err.headers() == {"retry-after": "7"}
    assert len(err.group.exceptions) == 3
    assert "a: upstream_503; b: upstream_429; c: upstream_connection_error" in str(err)


async def test_stream_fails_over_before_the_first_chunk() -> None:
    local = FakeProvider("local", default=Behaviour(error=UpstreamConnectionError("refused")))
    empty = FakeProvider("empty", default=Behaviour(chunks=0))
    vendor = FakeProvider("vendor")
    c = chain(local, empty, vendor)
    assert texts(await collect(c.stream(request()))) == ["vendor:0", "vendor:1", "vendor:2"]
    assert [a.error_code for a in c.attempts] == [
        "upstream_connection_error",
        "upstream_malformed_response",
        None,
    ]
    assert local.closed_streams == 1 and empty.closed_streams == 1


async def test_a_break_after_the_first_chunk_is_an_error_not_a_clean_end() -> None:
    local = FakeProvider("local", default=Behaviour(fail_after=2, error=UpstreamConnectionError("reset")))
    vendor = FakeProvider("vendor")
    c = chain(local, vendor)
    seen: list[dict] = []
    with pytest.raises(StreamInterrupted) as info:
        async for chunk in c.stream(request()):
            seen.append(chunk)
    assert texts(seen) == ["local:0", "local:1"]
    assert info.value.chunks_delivered == 2 and not info.value.retryable
    assert isinstance(info.value.__cause__, UpstreamConnectionError)
    assert vendor.calls == 0
    assert c.report.stream_error is not None and c.report.chunks_delivered == 2


async def test_a_stream_that_ends_without_finish_reason_is_an_error() -> None:
    c = chain(FakeProvider("local", default=Behaviour(finish=False)))
    with pytest.raises(StreamInterrupted, match="without a finish_reason"):
        await collect(c.stream(request()))


async def test_the_caller_stopping_early_closes_the_upstream() -> None:
    local = FakeProvider("local", default=Behaviour(chunks=10))
    stream = chain(local).stream(request())
    await anext(stream)
    await stream.aclose()
    assert local.closed_streams == 1


async def test_chain_hedges_a_slow_primary_with_the_next_candidate() -> None:
    clock = MonotonicClock()
    slow = FakeProvider("slow", default=Behaviour(hang=True), clock=clock)
    fast, last = FakeProvider("fast", clock=clock), FakeProvider("last", clock=clock)
    policy = ChainPolicy(
        clock=clock,
        hedge=HedgeSettings(enabled=True, share=1.0, delay_s=0.02),
        hedge_budget=RatioBudget(clock, BudgetSettings(ratio=1.0, min_per_window=0)),
    )
    c = FallbackChain([(p.name, p) for p in (slow, fast, last)], policy)
    chunks = await asyncio.wait_for(collect(c.stream(request())), 2)
    assert texts(chunks)[0] == "fast:0"
    assert [(a.deployment, a.outcome, a.hedge) for a in c.attempts] == [
        ("slow", Outcome.HEDGE_LOST, False),
        ("fast", Outcome.OK, True),
    ]
    assert slow.cancelled == 1 and last.calls == 0
    assert c.report.headers()["x-interlock-fallback"] == "from=slow; reason=hedge_lost"


async def test_chain_hedge_never_goes_to_a_filtered_deployment() -> None:
    clock = MonotonicClock()
    slow = FakeProvider("slow", default=Behaviour(delay=0.1), clock=clock)
    banned = FakeProvider("banned", clock=clock)
    policy = ChainPolicy(
        clock=clock,
        hedge=HedgeSettings(enabled=True, share=1.0, delay_s=0.01),
        hedge_budget=RatioBudget(clock, BudgetSettings(ratio=1.0, min_per_window=0)),
    )
    c = FallbackChain([("slow", slow), ("banned", banned)], policy, allow=lambda n: n != "banned")
    assert (await c.complete(request()))["model"] == "slow"
    assert banned.calls == 0


async def test_timeouts_are_reported_as_such() -> None:
    local = FakeProvider(
        "local", default=Behaviour(error=UpstreamTimeout("slow", code="timeout_first_token"))
    )
    c = chain(local, FakeProvider("vendor"))
    await collect(c.stream(request()))
    assert c.attempts[0].outcome is Outcome.TIMEOUT
    assert c.report.fallback_reason() == "timeout_first_token"
