"""The per-deployment resilience state, keyed by deployment name, and the way chains are built.

``DeploymentRegistry`` owns one health record, breaker and retry budget per deployment, wraps
each provider once at startup (``add``) and builds a ``FallbackChain`` per request (``chain``)
from ranked candidates, balancing replicas and spilling over past a latency target on the way.

Each deployment's provider is wrapped once, in a ``GuardedProvider`` (``resilience.guard``): an open
breaker is refused before health sees anything; timeouts and streams cut without a ``finish_reason``
count as failures in health and breaker, recorded once per call.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from interlock.providers.base import Provider
from interlock.resilience.balancer import BalancerSettings, ReplicaBalancer, spill_over
from interlock.resilience.breaker import BreakerSettings, BreakerState, CircuitBreaker
from interlock.resilience.budget import BudgetSettings, RatioBudget
from interlock.resilience.clock import Clock, MonotonicClock
from interlock.resilience.fallback import CandidateFilter, ChainPolicy, FallbackChain
from interlock.resilience.guard import GuardedProvider
from interlock.resilience.health import (
    DeploymentHealth,
    HealthSettings,
    HealthSnapshot,
    MetricSample,
    metric_samples,
)
from interlock.resilience.hedging import HedgeSettings
from interlock.resilience.retry import RetryPolicy, RetrySettings
from interlock.resilience.timeouts import TimeoutSettings


class ResilienceSettings(BaseModel):
    """Gateway-wide defaults; ``add`` may override timeouts, breaker and retry per deployment."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timeouts: TimeoutSettings = TimeoutSettings()
    retry: RetrySettings = RetrySettings()
    retry_budget: BudgetSettings = BudgetSettings()
    breaker: BreakerSettings = BreakerSettings()
    health: HealthSettings = HealthSettings()
    hedge: HedgeSettings = HedgeSettings()
    balancer: BalancerSettings = BalancerSettings()
    require_finish_reason: bool = Field(True, description="a stream without a finish_reason is a break")
    deadline_s: float | None = Field(
        300.0, gt=0, description="per request, all attempts together: until the answer or a stream's first chunk"
    )


@dataclass(frozen=True, slots=True)
class DeploymentStatus:
    """For the admin endpoint: health plus breaker state of one deployment."""

    health: HealthSnapshot
    breaker: BreakerState
    breaker_reason: str
    breaker_retry_in_s: float
    retries_spent: int
    retries_refused: int

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["breaker"] = self.breaker.value
        return out


@dataclass(slots=True)
class _Entry:
    raw: Provider
    guarded: GuardedProvider
    health: DeploymentHealth
    breaker: CircuitBreaker
    retry: RetryPolicy
    concurrency: int


class DeploymentRegistry:
    def __init__(
        self,
        settings: ResilienceSettings | None = None,
        *,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings or ResilienceSettings()
        self.clock = clock or MonotonicClock()
        self._rng = rng or random.Random()
        self._entries: dict[str, _Entry] = {}
        self._given_away: set[str] = set()  # adopted by a newer registry, which will close them
        self.balancer = ReplicaBalancer(self._rng, self.settings.balancer)
        self.hedge_budget = self.settings.hedge.budget(self.clock)
        self.policy = ChainPolicy(
            clock=self.clock,
            retry_for=lambda name: self._entries[name].retry,
            hedge=self.settings.hedge,
            hedge_budget=self.hedge_budget,
            health_of=self.health,
            is_open=lambda name: self.breaker(name).state is BreakerState.OPEN,
            require_finish_reason=self.settings.require_finish_reason,
            deadline_s=self.settings.deadline_s,
        )

    def add(
        self,
        name: str,
        provider: Provider,
        *,
        timeouts: TimeoutSettings | None = None,
        breaker: BreakerSettings | None = None,
        retry: RetrySettings | None = None,
        concurrency: int = 1,
    ) -> Provider:
        """Register a deployment's provider; returns it wrapped (timeouts, health, breaker).

        ``concurrency`` is how many requests it serves at once (for spill-over's expected latency).
        """
        if name in self._entries:
            raise ValueError(f"deployment {name!r} is already registered")
        s = self.settings
        health = DeploymentHealth(name, self.clock, s.health)
        circuit = CircuitBreaker(name, self.clock, breaker or s.breaker)
        policy = RetryPolicy(retry or s.retry, budget=RatioBudget(self.clock, s.retry_budget), rng=self._rng)
        guarded = self._guard(name, provider, health, circuit, timeouts or s.timeouts)
        self._entries[name] = _Entry(provider, guarded, health, circuit, policy, max(1, concurrency))
        return guarded

    def _guard(
        self,
        name: str,
        raw: Provider,
        health: DeploymentHealth,
        breaker: CircuitBreaker,
        timeouts: TimeoutSettings,
    ) -> GuardedProvider:
        return GuardedProvider(raw, name, health=health, breaker=breaker, timeouts=timeouts, clock=self.clock,
                               require_finish_reason=self.settings.require_finish_reason)

    def adopt(self, other: DeploymentRegistry, name: str, *, timeouts: TimeoutSettings | None = None) -> None:
        """Take over ``name`` from ``other`` (a config reload): same provider, health, breaker and budget.

        ``timeouts`` (when given) replace the adopted deployment's: gateway-wide limits may have changed.
        """
        if name in self._entries:
            raise ValueError(f"deployment {name!r} is already registered")
        entry = other._entry(name)
        if timeouts is not None:
            guarded = self._guard(name, entry.raw, entry.health, entry.breaker, timeouts)
            entry = replace(entry, guarded=guarded)
        self._entries[name] = entry
        other._given_away.add(name)

    def names(self) -> list[str]:
        return list(self._entries)

    def provider(self, name: str) -> Provider:
        return self._entry(name).guarded

    def health(self, name: str) -> DeploymentHealth:
        return self._entry(name).health

    def breaker(self, name: str) -> CircuitBreaker:
        return self._entry(name).breaker

    def retry_policy(self, name: str) -> RetryPolicy:
        return self._entry(name).retry

    def plan(
        self, tiers: Sequence[str | Sequence[str]], *, latency_target_s: float | None = None
    ) -> list[str]:
        """Flatten ranked tiers into try order: replicas in a tier balanced, then spill-over applied.

        A tier is one deployment name, or the names of replicas of one model.
        """
        ordered: list[str] = []
        for tier in tiers:
            names = [tier] if isinstance(tier, str) else list(tier)
            if len(names) == 1:  # nothing to balance
                if names[0] not in ordered:
                    ordered.append(names[0])
                continue
            limits = {n: self._entry(n).concurrency for n in names}
            order = self.balancer.order(names, self.health, limits, self.clock.now())
            balanced = [n for n in order if n not in ordered]
            # a replica whose breaker is open goes last in its tier: it would only refuse at once
            balanced.sort(key=lambda n: self.breaker(n).state is BreakerState.OPEN)
            ordered.extend(balanced)
        if latency_target_s is None or len(ordered) < 2:
            return ordered  # nothing to spill over to
        return spill_over(
            ordered,
            self.health,
            latency_target_s,
            default_latency_s=self.settings.balancer.default_latency_s,
            concurrency={name: self._entry(name).concurrency for name in ordered},
        )

    def chain(
        self,
        tiers: Sequence[str | Sequence[str]],
        *,
        allow: CandidateFilter | None = None,
        latency_target_s: float | None = None,
        timeouts: TimeoutSettings | None = None,
        wrap: Callable[[str, Provider], Provider] | None = None,
    ) -> FallbackChain:
        """A per-request chain over ``tiers`` (see ``plan``).

        ``allow`` rejects deployments (compliance); ``timeouts`` are route limits laid over the
        deployments' in the same guard (a route limit firing is not held against the deployment's
        health or breaker); ``wrap`` adapts a deployment's provider for this request only (compliance
        redaction).
        """
        tier_of = {name: i for i, tier in enumerate(tiers)
                   for name in ([tier] if isinstance(tier, str) else tier)}
        candidates: list[tuple[str, Provider]] = []
        for name in self.plan(tiers, latency_target_s=latency_target_s):
            provider: Provider = self._entry(name).guarded.for_route(timeouts)
            if wrap is not None:
                provider = wrap(name, provider)
            candidates.append((name, provider))
        return FallbackChain(candidates, self.policy, allow=allow, tier_of=tier_of)

    def snapshot(self) -> list[DeploymentStatus]:
        out = []
        for entry in self._entries.values():
            budget = entry.retry.budget
            out.append(
                DeploymentStatus(
                    health=entry.health.snapshot(),
                    breaker=entry.breaker.state,
                    breaker_reason=entry.breaker.reason,
                    breaker_retry_in_s=entry.breaker.retry_in(),
                    retries_spent=budget.spent() if budget else 0,
                    retries_refused=budget.refused() if budget else 0,
                )
            )
        return out

    def metric_samples(self) -> list[MetricSample]:
        """Gauges for ``/metrics``: health per deployment, breaker state (0 closed, 1 half-open, 2 open)."""
        statuses = self.snapshot()
        samples = metric_samples(s.health for s in statuses)
        code = {BreakerState.CLOSED: 0.0, BreakerState.HALF_OPEN: 1.0, BreakerState.OPEN: 2.0}
        for s in statuses:
            labels = {"deployment": s.health.deployment}
            samples.append(
                MetricSample(
                    "interlock_breaker_state", "0 closed, 1 half-open, 2 open", labels, code[s.breaker]
                )
            )
        return samples

    async def aclose(self) -> None:
        """Close the providers, except those a newer registry adopted (it closes them)."""
        for name, entry in self._entries.items():
            if name not in self._given_away:
                await entry.guarded.aclose()  # the guard owns its provider

    def _entry(self, name: str) -> _Entry:
        try:
            return self._entries[name]
        except KeyError:
            raise KeyError(f"deployment {name!r} is not registered; known: {sorted(self._entries)}") from None
