from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from interlock.errors import UpstreamConnectionError
from interlock.providers.base import ChatRequest
from interlock.resilience.clock import ManualClock, MonotonicClock
from interlock.resilience.health import DeploymentHealth
from interlock.resilience.hedging import HedgeSettings, Leg, RaceResult, race_first
from interlock.resilience.streams import StreamPump, cancel_task
from resilience.fakes import Behaviour, FakeProvider, collect, request, texts

FAST = HedgeSettings(enabled=True, share=1.0, delay_s=0.02)


class Hedged:
    """``race_first`` over two providers, as the fallback chain runs it for a candidate and its hedge."""

    def __init__(self, primary: FakeProvider, secondary: FakeProvider, settings: HedgeSettings) -> None:
        self.primary, self.secondary, self.settings = primary, secondary, settings
        self.clock = MonotonicClock()
        self.budget = settings.budget(self.clock)
        self.last_race: RaceResult[Any] | None = None

    async def _race(self, start: Any) -> RaceResult[Any]:
        self.budget.record_request()
        self.last_race = await race_first(
            lambda: start(self.primary), lambda: start(self.secondary),
            self.settings.delay_for(None, streaming=False), self.clock, self.budget.try_spend,
        )
        return self.last_race

    async def complete(self, request: ChatRequest) -> dict[str, Any]:
        def start(provider: FakeProvider) -> Leg[Any]:
            task = asyncio.ensure_future(provider.complete(request))
            return Leg(task, lambda: cancel_task(task))

        race = await self._race(start)
        if race.winner is None:
            raise next(r.error for r in reversed(race.legs) if r.error is not None)
        return race.value  # type: ignore[return-value]

    async def stream(self, request: ChatRequest) -> AsyncIterator[dict[str, Any]]:
        pumps: list[StreamPump] = []

        def start(provider: FakeProvider) -> Leg[Any]:
            pumps.append(StreamPump(provider.stream(request)))
            return Leg(pumps[-1].next(), pumps[-1].cancel)

        race = await self._race(start)
        assert race.winner is not None
        winner = pumps[race.winner]
        try:
            yield race.value  # type: ignore[misc]
            async for chunk in winner:
                yield chunk
        finally:
            await winner.cancel()


def hedged(primary: FakeProvider, secondary: FakeProvider, settings: HedgeSettings = FAST) -> Hedged:
    return Hedged(primary, secondary, settings)


async def test_hedge_wins_against_a_hung_primary_and_the_primary_is_cancelled() -> None:
    primary = FakeProvider("primary", default=Behaviour(hang=True))
    secondary = FakeProvider("secondary")
    provider = hedged(primary, secondary)
    chunks = await asyncio.wait_for(collect(provider.stream(request())), 2)
    assert texts(chunks) == ["secondary:0", "secondary:1", "secondary:2"]
    assert primary.cancelled == 1 and primary.closed_streams == 1
    race = provider.last_race
    assert race is not None and race.winner == 1 and race.legs[0].cancelled


async def test_hedged_completion_cancels_the_loser() -> None:
    primary = FakeProvider("primary", default=Behaviour(hang=True))
    provider = hedged(primary, FakeProvider("secondary"))
    result = await asyncio.wait_for(provider.complete(request()), 2)
    assert result["model"] == "secondary"
    assert primary.cancelled == 1


async def test_a_fast_primary_is_never_hedged() -> None:
    secondary = FakeProvider("secondary")
    provider = hedged(FakeProvider("primary"), secondary, HedgeSettings(enabled=True, share=1.0, delay_s=0.5))
    assert texts(await collect(provider.stream(request())))[0] == "primary:0"
    assert secondary.calls == 0


async def test_primary_that_wins_after_the_hedge_started_cancels_the_hedge() -> None:
    primary = FakeProvider("primary", default=Behaviour(delay=0.05))
    secondary = FakeProvider("secondary", default=Behaviour(delay=1.0))
    provider = hedged(primary, secondary)
    assert (await provider.complete(request()))["model"] == "primary"
    assert secondary.calls == 1 and secondary.cancelled == 1


async def test_a_primary_failing_before_the_delay_is_not_hedged() -> None:
    primary = FakeProvider("primary", default=Behaviour(error=UpstreamConnectionError("refused")))
    secondary = FakeProvider("secondary")
    with pytest.raises(UpstreamConnectionError):
        await hedged(primary, secondary, HedgeSettings(enabled=True, share=1.0, delay_s=0.5)).complete(
            request()
        )
    assert secondary.calls == 0


async def test_one_leg_failing_leaves_the_other_to_win() -> None:
    primary = FakeProvider("primary", default=Behaviour(delay=0.1, error=UpstreamConnectionError("reset")))
    secondary = FakeProvider("secondary", default=Behaviour(delay=0.2))
    result = await hedged(primary, secondary).complete(request())
    assert result["model"] == "secondary"


async def test_hedges_are_capped_at_their_share_of_traffic() -> None:
    # The primary is slow enough that every request wants a hedge, however busy the machine is;
    # the budget lets 5% of them have one.
    primary = FakeProvider("primary", default=Behaviour(delay=0.5))
    secondary = FakeProvider("secondary", default=Behaviour(delay=0.05))
    settings = HedgeSettings(enabled=True, share=0.05, delay_s=0.01, window_s=60)
    provider = hedged(primary, secondary, settings)
    results = await asyncio.gather(*(provider.complete(request()) for _ in range(200)))
    assert secondary.calls == 10  # 5% of 200
    assert sum(r["model"] == "secondary" for r in results) == 10  # each hedge beat its slow primary
    assert provider.budget.refused() == 190


def test_delay_is_the_primary_p95_once_known() -> None:
    clock = ManualClock()
    health = DeploymentHealth("a", clock)
    settings = HedgeSettings(enabled=True, min_samples=20, cold_delay_s=1.5, min_delay_s=0.05)
    assert settings.delay_for(health, streaming=True) == 1.5
    for i in range(1, 101):
        health.started()
        health.first_token(i / 100)
        health.succeeded(i / 10)
    assert settings.delay_for(health, streaming=True) == pytest.approx(0.95)
    assert settings.delay_for(health, streaming=False) == pytest.approx(9.5)
    assert HedgeSettings(delay_s=0.3).delay_for(health, streaming=True) == 0.3
