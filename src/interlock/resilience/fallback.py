"""FallbackChain: one request over an ordered list of deployments, recording every attempt.

Each candidate is tried with its retry policy (and, when enabled, hedged with the next
candidate); a client error is passed on at once, any other failure moves on to the next
candidate. Streams may fail over only until their first chunk reaches the caller; after that
a break raises ``StreamInterrupted`` (and so does a stream that ends without a
``finish_reason``): never a silent clean end. When every candidate fails,
``AllCandidatesFailed`` carries every failure. The ``allow`` filter (compliance) is applied
before anything runs, so neither a fallback nor a hedge can reach a rejected deployment.
Every attempt, retry and backoff of one request shares one deadline (``ChainPolicy.deadline_s``,
until the answer, or a stream's first chunk): past it the chain ends with ``UpstreamTimeout``
(code ``timeout_deadline``) however many candidates are left.

A chain is built per request (``report`` is that request's record); it does not own its
providers, so ``aclose`` is a no-op.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from interlock.errors import (
    AllCandidatesFailed,
    NoEligibleDeployment,
    StreamInterrupted,
    UpstreamMalformed,
    UpstreamTimeout,
)
from interlock.providers.base import JSON, ChatRequest, Provider, embed_on
from interlock.resilience.attempts import Attempt, AttemptReport
from interlock.resilience.budget import RatioBudget
from interlock.resilience.clock import Clock
from interlock.resilience.failures import Outcome, as_client_error, error_code, is_client_error, relevance
from interlock.resilience.health import DeploymentHealth
from interlock.resilience.hedging import HedgeSettings, Leg, RaceResult, race_first
from interlock.resilience.retry import RetryPolicy
from interlock.resilience.streams import StreamPump, cancel_task, close_stream

T = TypeVar("T")
CandidateFilter = Callable[[str], bool]
OpenLeg = Callable[[int, bool], Leg[T]]


def _nothing(_: str) -> Any:
    return None


@dataclass(slots=True)
class ChainPolicy:
    """What every chain shares: time, per-deployment retry policies, hedging, and health lookups."""

    clock: Clock
    retry_for: Callable[[str], RetryPolicy | None] = _nothing
    hedge: HedgeSettings = field(default_factory=HedgeSettings)
    hedge_budget: RatioBudget | None = None
    health_of: Callable[[str], DeploymentHealth | None] = _nothing
    is_open: Callable[[str], bool] = lambda _: False
    require_finish_reason: bool = True
    deadline_s: float | None = None


class FallbackChain:
    def __init__(
        self,
        candidates: Sequence[tuple[str, Provider]],
        policy: ChainPolicy,
        *,
        allow: CandidateFilter | None = None,
        tier_of: Mapping[str, int] | None = None,
    ) -> None:
        """``tier_of`` groups replicas of one model (same number): after a failure the chain tries
        an untried replica first, before retrying the same deployment or leaving for another model."""
        self.report = AttemptReport(planned=[name for name, _ in candidates])
        self._tier_of = dict(tier_of or {})
        self._policy = policy
        self._current: tuple[str, float, int] | None = None  # the attempt under way: name, start, try
        self._hedging = policy.hedge.enabled and policy.hedge_budget is not None
        self._candidates: list[tuple[str, Provider]] = []
        for name, provider in candidates:
            if allow is not None and not allow(name):
                self.report.skipped.append((name, "filtered"))
            else:
                self._candidates.append((name, provider))

    @property
    def attempts(self) -> list[Attempt]:
        return self.report.attempts

    async def complete(self, request: ChatRequest) -> JSON:
        return await self._one_answer(lambda provider: provider.complete(request))

    async def embed(self, body: JSON, request_id: str = "") -> JSON:
        """Embeddings over the same candidates, with the same retries, breakers and fallback."""
        return await self._one_answer(lambda provider: embed_on(provider, body, request_id))

    async def _one_answer(self, call: Callable[[Provider], Awaitable[JSON]]) -> JSON:
        def open_leg(index: int, raced: bool) -> Leg[JSON]:
            coro = call(self._candidates[index][1])
            if not raced:
                return Leg(coro, _noop)
            task = asyncio.ensure_future(coro)
            return Leg(task, lambda: cancel_task(task))

        _, result = await self._serve(open_leg, streaming=False)
        return result

    async def stream(self, request: ChatRequest) -> AsyncIterator[JSON]:
        """The first candidate's stream to produce a chunk, delivered in this one loop: after the first
        chunk a break raises ``StreamInterrupted`` (so does an end without any ``finish_reason``)."""
        rests: dict[int, AsyncIterator[JSON]] = {}
        closers: list[Callable[[], Awaitable[None]]] = []

        def open_leg(index: int, raced: bool) -> Leg[JSON]:
            chunks = self._candidates[index][1].stream(request)
            if raced:
                pump = StreamPump(chunks)
                rest = pump.__aiter__()
                closers.extend((lambda: close_stream(rest), pump.cancel))
                rests[index] = rest
                return Leg(pump.next(), pump.cancel)
            closers.append(lambda: close_stream(chunks))
            rests[index] = chunks
            return Leg(anext(chunks), lambda: close_stream(chunks))

        try:
            winner, first = await self._serve(open_leg, streaming=True)
            name, report = self._candidates[winner][0], self.report
            finished = _has_finish_reason(first)
            report.chunks_delivered = 1
            yield first
            rest = rests[winner]
            try:
                async for chunk in rest:
                    if not finished:
                        finished = _has_finish_reason(chunk)
                    report.chunks_delivered += 1
                    yield chunk
            except Exception as exc:
                raise self._interrupted(name, f"broke off its stream ({error_code(exc)})") from exc
            if self._policy.require_finish_reason and not finished:
                raise self._interrupted(name, "ended its stream without a finish_reason")
        finally:
            for close in closers:
                await close()

    async def aclose(self) -> None:
        """The chain does not own its providers; the registry closes them."""

    def _interrupted(self, name: str, what: str) -> StreamInterrupted:
        delivered = self.report.chunks_delivered
        self.report.stream_error = what
        return StreamInterrupted(
            f"Deployment {name!r} {what} after {delivered} chunk(s) reached the client",
            deployment=name,
            chunks_delivered=delivered,
        )

    async def _serve(self, open_leg: OpenLeg[T], *, streaming: bool) -> tuple[int, T]:
        """``_try_in_order`` within the request's deadline."""
        clock, limit = self._policy.clock, self._policy.deadline_s
        if limit is None:
            return await self._try_in_order(open_leg, streaming=streaming)
        deadline = clock.timeout(limit)
        try:
            async with deadline:
                return await self._try_in_order(open_leg, streaming=streaming)
        except TimeoutError:
            if not deadline.expired() or limit is None:
                raise
            if self._current is not None:
                name, start, try_number = self._current
                self.report.add(Attempt(name, Outcome.TIMEOUT, clock.now() - start, try_number=try_number,
                                        error_code="timeout_deadline", message="the request's deadline passed"))
            tried = ", ".join(dict.fromkeys(a.deployment for a in self.attempts)) or "none"
            raise UpstreamTimeout(
                f"No deployment answered within this request's deadline of {limit:g}s (tried: {tried})",
                deployment=self._current[0] if self._current else "", code="timeout_deadline",
            ) from None

    async def _try_in_order(self, open_leg: OpenLeg[T], *, streaming: bool) -> tuple[int, T]:
        """Try candidates in order (with retries and hedges); the winner's index and first result."""
        if not self._candidates:
            raise NoEligibleDeployment(
                f"No deployment may serve this request (planned: {', '.join(self.report.planned) or 'none'}; "
                f"all rejected by the filter)"
            )
        clock = self._policy.clock
        if self._hedging and self._policy.hedge_budget is not None:
            self._policy.hedge_budget.record_request()
        queue = list(range(len(self._candidates)))
        failures: list[tuple[str, BaseException]] = []
        while queue:
            index = queue.pop(0)
            name = self._candidates[index][0]
            retry = self._policy.retry_for(name)
            if retry is not None and retry.budget is not None:
                retry.budget.record_request()
            try_number = 0
            while True:
                try_number += 1
                hedge_index = self._hedge_target(name, queue, streaming) if try_number == 1 else None
                if hedge_index is not None:
                    self._current = (name, clock.now(), try_number)
                    race = await self._race(open_leg, index, hedge_index, streaming)
                    if race.hedged:
                        queue.remove(hedge_index)
                    if race.winner is not None:
                        return (index, hedge_index)[race.winner], race.value  # type: ignore[return-value]
                    errors = [((index, hedge_index)[leg.index], leg.error) for leg in race.legs if leg.error]
                    hedged = race.hedged
                else:
                    start = clock.now()
                    self._current = (name, start, try_number)
                    leg = open_leg(index, False)
                    try:
                        value = await leg.first
                    except Exception as exc:
                        await leg.cancel()
                        error = _no_first_chunk(exc)
                        self.report.add(
                            Attempt.failed(name, error, clock.now() - start, try_number=try_number)
                        )
                        errors, hedged = [(index, error)], False
                    else:
                        self.report.add(Attempt(name, Outcome.OK, clock.now() - start, try_number=try_number))
                        return index, value
                for failed_index, error in errors:
                    if is_client_error(error):
                        raise as_client_error(error) from error
                    failures.append((self._candidates[failed_index][0], error))
                if self._twin_first(name, queue):
                    break  # an idle replica beats waiting to retry this one (a 429, a flaky 5xx)
                delay = (
                    None if hedged or retry is None else retry.delay_before_retry(errors[-1][1], try_number)
                )
                if delay is None:
                    break
                self._current = None
                await clock.sleep(delay)
        self._current = None
        raise _exhausted(failures)

    def _twin_first(self, name: str, queue: list[int]) -> bool:
        """Move an untried replica of ``name`` whose breaker is closed to the front of ``queue``."""
        tier = self._tier_of.get(name)
        if tier is None:
            return False
        for position, index in enumerate(queue):
            twin = self._candidates[index][0]
            if self._tier_of.get(twin) == tier and not self._policy.is_open(twin):
                queue.insert(0, queue.pop(position))
                return True
        return False

    def _hedge_target(self, primary: str, queue: list[int], streaming: bool) -> int | None:
        """The first candidate still queued that is open for traffic and not known to be much slower
        than ``primary`` (a hedge to it would rarely win, and would add its load for nothing)."""
        budget = self._policy.hedge_budget
        if not self._hedging or budget is None or budget.available() < 1 or self._policy.is_open(primary):
            return None
        limit = self._policy.hedge.max_slowdown
        base = _typical_latency(self._policy.health_of(primary), streaming)
        for index in queue:
            name = self._candidates[index][0]
            if self._policy.is_open(name):
                continue
            latency = _typical_latency(self._policy.health_of(name), streaming)
            if base is None or latency is None or latency <= limit * base:
                return index
        return None

    def _cold_delay(self, primary: str, streaming: bool) -> float | None:
        """For a primary not yet measured: the p95 of its fastest measured replica, if any."""
        tier = self._tier_of.get(primary)
        known = [p95 for name, _ in self._candidates
                 if name != primary and tier is not None and self._tier_of.get(name) == tier
                 and (p95 := _p95(self._policy.health_of(name), self._policy.hedge.min_samples, streaming))]
        return min(known) if known else None

    async def _race(
        self, open_leg: OpenLeg[T], index: int, hedge_index: int, streaming: bool
    ) -> RaceResult[T]:
        policy = self._policy
        assert policy.hedge_budget is not None
        name = self._candidates[index][0]
        race = await race_first(
            lambda: open_leg(index, True),
            lambda: open_leg(hedge_index, True),
            policy.hedge.delay_for(policy.health_of(name), streaming, self._cold_delay(name, streaming)),
            policy.clock,
            policy.hedge_budget.try_spend,
        )
        for leg in race.legs:
            leg_name = self._candidates[(index, hedge_index)[leg.index]][0]
            latency = (leg.ended_at or policy.clock.now()) - leg.started_at
            hedge = leg.index == 1
            if leg.won:
                self.report.add(Attempt(leg_name, Outcome.OK, latency, hedge=hedge))
            elif leg.error is not None:
                self.report.add(Attempt.failed(leg_name, _no_first_chunk(leg.error), latency, hedge=hedge))
            else:
                self.report.add(Attempt(leg_name, Outcome.HEDGE_LOST, latency, hedge=hedge))
        return race


def _no_first_chunk(exc: BaseException) -> BaseException:
    if isinstance(exc, StopAsyncIteration):
        return UpstreamMalformed("the upstream stream ended before its first chunk")
    return exc


def _exhausted(failures: list[tuple[str, BaseException]]) -> AllCandidatesFailed:
    primary = max(reversed(failures), key=lambda f: relevance(f[1]))[1]
    detail = "; ".join(f"{name}: {error_code(exc)}" for name, exc in failures)
    last = f" Most relevant: {primary}" if str(primary) else ""
    return AllCandidatesFailed(f"Every candidate deployment failed ({detail}).{last}", failures, primary)


def _typical_latency(health: DeploymentHealth | None, streaming: bool) -> float | None:
    if health is None:
        return None
    return (health.ttft_ewma if streaming else health.latency_ewma).value


def _p95(health: DeploymentHealth | None, min_samples: int, streaming: bool) -> float | None:
    if health is None:
        return None
    return health.ttft_p95(min_samples) if streaming else health.latency_p95(min_samples)


def _has_finish_reason(chunk: JSON) -> bool:
    for choice in chunk.get("choices") or ():
        if choice.get("finish_reason"):
            return True
    return False


async def _noop() -> None:
    return None
