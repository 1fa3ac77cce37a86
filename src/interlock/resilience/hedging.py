"""Hedged requests: when the first chunk is late, send the same request to a second deployment.

The primary starts at once; if it has produced nothing after the hedge delay (the primary's
p95 time to first token, or a configured delay) and the hedge budget allows, the hedge starts.
Whichever produces a first chunk (or a whole completion) first wins; the other is cancelled.
A failure of one leg does not end the race while the other is still running.

``race_first`` is the mechanism, used by the fallback chain (``FallbackChain._race``). Hedges are
capped by a ``RatioBudget`` (default 5%).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from interlock.errors import UpstreamMalformed
from interlock.resilience.budget import BudgetSettings, RatioBudget
from interlock.resilience.clock import Clock
from interlock.resilience.health import DeploymentHealth

T = TypeVar("T")


class HedgeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = False
    share: float = Field(0.05, ge=0, le=1, description="hedges as a share of requests")
    delay_s: float | None = Field(None, gt=0, description="fixed hedge delay; default: the primary's p95")
    min_delay_s: float = Field(0.02, ge=0, description="floor under the p95-derived delay")
    cold_delay_s: float = Field(2.0, gt=0, description="delay while the primary has too few samples")
    min_samples: int = Field(20, ge=1, description="samples needed before the p95 is trusted")
    window_s: float = Field(10.0, gt=0, description="window of the hedge budget")
    max_slowdown: float = Field(
        2.0, ge=1, description="never hedge to a candidate this many times slower than the primary, typically"
    )

    def budget(self, clock: Clock) -> RatioBudget:
        return RatioBudget(clock, BudgetSettings(ratio=self.share, min_per_window=0, window_s=self.window_s))

    def delay_for(
        self, health: DeploymentHealth | None, streaming: bool, peer_p95: float | None = None
    ) -> float:
        """The primary's p95; while it has too few samples, a measured replica's p95 (``peer_p95``),
        else ``cold_delay_s``: a cold replica that turns out slow is hedged as soon as its twin's
        answers would have come."""
        if self.delay_s is not None:
            return self.delay_s
        p95 = None
        if health is not None:
            p95 = health.ttft_p95(self.min_samples) if streaming else health.latency_p95(self.min_samples)
        p95 = p95 if p95 is not None else peer_p95
        return self.cold_delay_s if p95 is None else max(self.min_delay_s, p95)


@dataclass(slots=True)
class Leg(Generic[T]):
    """One started attempt: ``first`` resolves to its first result; ``cancel`` stops it."""

    first: Awaitable[T]
    cancel: Callable[[], Awaitable[None]]


@dataclass(slots=True)
class LegReport:
    index: int  # 0: primary, 1: hedge
    started_at: float
    ended_at: float | None = None
    error: BaseException | None = None
    won: bool = False
    cancelled: bool = False


@dataclass(slots=True)
class RaceResult(Generic[T]):
    winner: int | None
    value: T | None
    legs: list[LegReport] = field(default_factory=list)

    @property
    def hedged(self) -> bool:
        return len(self.legs) > 1


async def race_first(
    start_primary: Callable[[], Leg[T]],
    start_hedge: Callable[[], Leg[T]] | None,
    delay: float,
    clock: Clock,
    may_hedge: Callable[[], bool],
) -> RaceResult[T]:
    """Run the primary; start the hedge after ``delay`` if ``may_hedge()``; first result wins.

    Returns the winner's index and value, or ``winner=None`` when every started leg failed
    (each ``LegReport.error`` says why). Losers and pending legs are always cancelled.
    """
    legs: list[Leg[T]] = [start_primary()]
    reports = [LegReport(0, clock.now())]
    waiting: dict[asyncio.Future[Any], int] = {asyncio.ensure_future(legs[0].first): 0}
    timer: asyncio.Task[None] | None = None
    if start_hedge is not None:
        timer = asyncio.create_task(clock.sleep(delay))
    result: RaceResult[T] = RaceResult(None, None, reports)
    try:
        while waiting:
            watch: set[asyncio.Future[Any]] = set(waiting)
            if timer is not None:
                watch.add(timer)
            done, _ = await asyncio.wait(watch, return_when=asyncio.FIRST_COMPLETED)
            if timer is not None and timer in done:
                timer = None
                if start_hedge is not None and may_hedge():
                    legs.append(start_hedge())
                    reports.append(LegReport(1, clock.now()))
                    waiting[asyncio.ensure_future(legs[1].first)] = 1
            for fut in [f for f in done if f in waiting]:
                index = waiting.pop(fut)
                reports[index].ended_at = clock.now()
                error = fut.exception()
                if error is None:
                    reports[index].won = True
                    result = RaceResult(index, fut.result(), reports)
                    return result
                if isinstance(error, StopAsyncIteration):
                    error = UpstreamMalformed("the upstream stream ended before its first chunk")
                reports[index].error = error
            if not waiting and timer is not None:
                break  # the primary failed before the hedge delay: nothing to race
        return result
    finally:
        if timer is not None:
            timer.cancel()
        for fut, index in waiting.items():
            fut.cancel()
            reports[index].cancelled = True
            reports[index].ended_at = clock.now()
        for index, leg in enumerate(legs):
            if index != result.winner:
                with contextlib.suppress(Exception):
                    await leg.cancel()
