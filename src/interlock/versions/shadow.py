"""``ShadowRunner``: mirror a share of an alias's requests to a candidate, in the background.

The client only ever sees the primary. ``start`` schedules a task and returns at once; the
shadow call runs beside the primary under the alias's own cap (``max_concurrency``; a request
finding it full is dropped and counted) and its own ``timeout_s``, and nothing it does (fail,
hang, raise) reaches the primary. The caller reports the primary's outcome on the returned
ticket; the pair is then stored for ``versions compare``.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from interlock.errors import InterlockError
from interlock.providers.base import ChatRequest, Provider
from interlock.resilience.health import MetricSample
from interlock.types import Usage
from interlock.versions.results import ShadowResult, ShadowStore, SideOutcome, completion_text
from interlock.versions.settings import ShadowSettings

log = logging.getLogger("interlock.versions.shadow")
CostOf = Callable[[Usage], Decimal | None]


@dataclass(frozen=True, slots=True)
class ShadowCandidate:
    """Where shadow calls go: the candidate ref, one of its deployments and that deployment's provider."""

    model: str
    deployment: str
    provider: Provider
    cost_of: CostOf | None = None


@dataclass(slots=True)
class ShadowStats:
    mirrored: int = 0
    dropped: int = 0
    failed: int = 0
    stored: int = 0
    store_errors: int = 0
    in_flight: int = 0


class ShadowTicket:
    """Handed back by ``start``: report the primary's outcome here once the client has its answer."""

    def __init__(self, primary_model: str) -> None:
        self.primary_model = primary_model
        self._outcome: asyncio.Future[SideOutcome] = asyncio.get_running_loop().create_future()

    def report(self, outcome: SideOutcome) -> None:
        if not self._outcome.done():
            self._outcome.set_result(outcome)

    def primary_answered(
        self,
        deployment: str,
        text: str,
        latency_s: float,
        usage: Usage | None = None,
        cost_usd: Decimal | None = None,
        model: str | None = None,
    ) -> None:
        self.report(
            SideOutcome.answered(model or self.primary_model, deployment, text, latency_s, usage, cost_usd)
        )

    def primary_failed(self, deployment: str | None, error: str, latency_s: float | None = None) -> None:
        self.report(SideOutcome.failed(self.primary_model, deployment, error, latency_s))

    @property
    def reported(self) -> bool:
        return self._outcome.done()

    async def outcome(self, wait_s: float) -> SideOutcome:
        try:
            return await asyncio.wait_for(asyncio.shield(self._outcome), wait_s)
        except TimeoutError:
            return SideOutcome.failed(self.primary_model, None, "primary outcome was not reported")


class _Slot:
    """One place under an alias's cap, held from ``start`` until the shadow call ends; released once."""

    def __init__(self, stats: ShadowStats) -> None:
        self._stats = stats
        self._held = True
        stats.in_flight += 1

    def release(self) -> None:
        if self._held:
            self._held = False
            self._stats.in_flight -= 1


@dataclass(frozen=True, slots=True)
class _Mirror:
    alias: str
    settings: ShadowSettings
    candidate: ShadowCandidate
    request: ChatRequest
    ticket: ShadowTicket
    config_hash: str | None
    slot: _Slot


class ShadowRunner:
    def __init__(
        self,
        store: ShadowStore,
        *,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.perf_counter,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        primary_wait_s: float = 600.0,
    ) -> None:
        self.store = store
        self._rng = rng or random.Random()
        self._clock = clock
        self._now = now
        self.primary_wait_s = primary_wait_s
        self._stats: dict[str, ShadowStats] = {}
        self._tasks: dict[asyncio.Task[None], ShadowTicket] = {}
        self._closed = False

    def stats(self, alias: str) -> ShadowStats:
        return self._stats.setdefault(alias, ShadowStats())

    def start(
        self,
        alias: str,
        settings: ShadowSettings,
        candidate: ShadowCandidate,
        request: ChatRequest,
        primary_model: str,
        *,
        config_hash: str | None = None,
    ) -> ShadowTicket | None:
        """Mirror ``request`` if it falls in the sampled share and the cap has room; never blocks.

        Returns the ticket to report the primary on, or ``None`` (not sampled, dropped, or closed).
        """
        if self._closed or self._rng.random() >= settings.share:
            return None
        stats = self.stats(alias)
        if stats.in_flight >= settings.max_concurrency:
            stats.dropped += 1
            return None
        stats.mirrored += 1
        mirror = _Mirror(
            alias, settings, candidate, request, ShadowTicket(primary_model), config_hash, _Slot(stats)
        )
        task = asyncio.get_running_loop().create_task(self._run(mirror), name=f"shadow:{alias}")
        self._tasks[task] = mirror.ticket

        def forget(done: asyncio.Task[None]) -> None:
            self._tasks.pop(done, None)
            mirror.slot.release()  # also when the task was cancelled before it ever ran

        task.add_done_callback(forget)
        return mirror.ticket

    async def _run(self, mirror: _Mirror) -> None:
        ts = self._now()
        try:
            shadow = await self._call(mirror.candidate, mirror.request, mirror.settings.timeout_s)
        finally:
            mirror.slot.release()
        stats = self.stats(mirror.alias)
        if not shadow.ok:
            stats.failed += 1
        primary = await mirror.ticket.outcome(self.primary_wait_s)
        result = ShadowResult(
            mirror.alias, mirror.request.request_id, ts, primary, shadow, mirror.config_hash
        )
        try:
            await asyncio.to_thread(self.store.add, result)
        except Exception:
            stats.store_errors += 1
            log.exception("storing a shadow result for alias %r failed", mirror.alias)
        else:
            stats.stored += 1

    async def _call(self, candidate: ShadowCandidate, request: ChatRequest, timeout_s: float) -> SideOutcome:
        """The candidate's answer, or its failure as a ``SideOutcome``; never raises (but cancellation)."""
        mirrored = ChatRequest(
            body=dict(request.body), request_id=f"{request.request_id}-shadow", include_usage=True
        )
        started = self._clock()
        try:
            async with asyncio.timeout(timeout_s):
                response = await candidate.provider.complete(mirrored)
        except TimeoutError:
            error = f"timed out after {timeout_s:g}s"
        except InterlockError as exc:
            error = f"{type(exc).__name__}: {exc.message}"
        except Exception as exc:  # a shadow must never take anything down, whatever it raises
            log.warning("shadow call to %s raised %r", candidate.deployment, exc)
            error = f"{type(exc).__name__}: {exc}"
        else:
            latency = self._clock() - started
            usage = Usage.from_openai(response.get("usage"))
            cost = _safe_cost(candidate.cost_of, usage)
            return SideOutcome.answered(
                candidate.model, candidate.deployment, completion_text(response), latency, usage, cost
            )
        return SideOutcome.failed(candidate.model, candidate.deployment, error, self._clock() - started)

    def metric_samples(self) -> list[MetricSample]:
        """Gauges for ``GatewayMetrics.watch``: shadow calls mirrored, dropped, failed, stored, in flight."""
        samples = []
        for alias, s in sorted(self._stats.items()):
            labels = {"alias": alias}
            for field, help_text in _METRICS:
                samples.append(
                    MetricSample(f"interlock_shadow_{field}", help_text, labels, float(getattr(s, field)))
                )
        return samples

    async def aclose(self, timeout_s: float = 5.0) -> None:
        """Stop mirroring; wait up to ``timeout_s`` for shadow calls in flight, then cancel the rest.

        Runs after the server has drained, so a primary not reported by now never will be.
        """
        self._closed = True
        for ticket in self._tasks.values():
            if not ticket.reported:
                ticket.primary_failed(None, "gateway shut down before the primary was reported")
        tasks = list(self._tasks)
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=timeout_s)
        for task in pending:
            task.cancel()
        if pending:
            log.warning("cancelled %d shadow call(s) still running at shutdown", len(pending))
            await asyncio.gather(*pending, return_exceptions=True)


_METRICS = (
    ("mirrored", "Requests mirrored to a shadow candidate"),
    ("dropped", "Shadow calls dropped because the alias's shadow concurrency cap was full"),
    ("failed", "Shadow calls that failed or timed out"),
    ("stored", "Shadow comparisons stored"),
    ("in_flight", "Shadow calls in flight"),
)


def _safe_cost(cost_of: CostOf | None, usage: Usage) -> Decimal | None:
    if cost_of is None:
        return None
    try:
        return cost_of(usage)
    except Exception:
        log.exception("pricing a shadow call failed")
        return None
