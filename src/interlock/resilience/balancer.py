"""Choosing among replicas of one model by queue and observed health, and spill-over past a latency target.

``ReplicaBalancer.order`` puts first the better of two randomly drawn replicas (power of two
choices); the rest follow best-first as fallbacks. A replica's score is what a request sent to it
now should expect, made worse by its recent failures:

    estimate x (1 + in-flight / concurrency) / (1 - error rate)^2

``estimate`` is the replica's latency EWMA, with three corrections that keep every replica
observed, so the balance follows the replicas as they are now and not as they were once:

* optimistic prior: a replica never observed (cold start, or just added by a reload) is assumed as
  fast as its best peer, so it gets traffic and is measured at once (but, until its first answer,
  as serving one request at a time, so a cold burst does not pile onto it);
* quick learning: the age of its oldest request still in flight is a lower bound, so a slow or
  hung replica loses traffic as soon as that request outlives its peers' latency, long before
  any of its answers lands in the average;
* staleness: an estimate not refreshed for a while decays back towards that prior, so a replica
  that lost every draw on an unlucky sample is tried again.

Two scores within ``tie_tolerance`` of each other are a tie, broken at random (exploration):
identical replicas split evenly instead of locking onto whichever sampled lower first.

``spill_over`` moves candidates whose expected latency (queue depth times recent latency) would
miss a route's target behind those that would meet it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field

from interlock.resilience.health import DeploymentHealth

HealthOf = Callable[[str], DeploymentHealth]


class BalancerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    default_latency_s: float = Field(1.0, gt=0, description="assumed latency while no replica is observed")
    tie_tolerance: float = Field(0.25, ge=0, description="scores closer than this share tie, drawn at random")
    stale_half_life_s: float = Field(
        30.0, gt=0, description="an estimate not refreshed this long is halfway back to the optimistic prior"
    )
    error_min_requests: int = Field(
        5, ge=1, description="calls of a kind in the health window before their error rate counts"
    )


class ReplicaBalancer:
    def __init__(self, rng: random.Random, settings: BalancerSettings | None = None) -> None:
        self._rng = rng
        self.settings = settings or BalancerSettings()

    def estimate(self, health: DeploymentHealth, prior: float, now: float) -> float:
        """Expected latency of one more request with an empty queue (see the module docstring)."""
        observed = health.latency_ewma.value
        if observed is None:
            value = prior
        else:
            value = observed
            if observed > prior and health.last_sample_at is not None:
                weight = 0.5 ** ((now - health.last_sample_at) / self.settings.stale_half_life_s)
                value = prior + (observed - prior) * weight
        return max(value, health.oldest_in_flight_s())

    def score(self, health: DeploymentHealth, concurrency: int = 1, prior: float | None = None,
              now: float | None = None) -> float:
        """Lower is better: estimate x queue factor, divided by the squared success rate."""
        if prior is None:
            prior = health.latency_ewma.value or self.settings.default_latency_s
        clock_now = now if now is not None else (health.last_sample_at or 0.0)
        # until a replica has answered once, each request in flight counts whole: a cold burst must
        # not pile onto a replica that may turn out slow before its first answer says so
        serves_at_once = max(1, concurrency) if health.latency_ewma.value is not None else 1
        queue = 1.0 + health.in_flight / serves_at_once
        failing = min(0.95, health.worst_error_rate(self.settings.error_min_requests))
        return self.estimate(health, prior, clock_now) * queue / (1.0 - failing) ** 2

    def order(
        self,
        replicas: Sequence[str],
        health_of: HealthOf,
        concurrency: Mapping[str, int] | None = None,
        now: float | None = None,
    ) -> list[str]:
        """All of ``replicas``: the power-of-two-choices pick first, then the rest best-first."""
        if len(replicas) <= 1:
            return list(replicas)
        limits = concurrency or {}
        observed = [v for v in (health_of(r).latency_ewma.value for r in replicas) if v is not None]
        prior = min(observed) if observed else self.settings.default_latency_s
        scores = {r: self.score(health_of(r), limits.get(r, 1), prior, now) for r in replicas}
        a, b = self._rng.sample(list(replicas), 2)
        low, high = sorted((scores[a], scores[b]))
        if high <= low * (1.0 + self.settings.tie_tolerance):
            first = self._rng.choice((a, b))
        else:
            first = a if scores[a] < scores[b] else b
        rest = sorted((r for r in replicas if r != first), key=scores.__getitem__)
        return [first, *rest]


def spill_over(
    candidates: Sequence[str],
    health_of: HealthOf,
    latency_target_s: float | None,
    *,
    default_latency_s: float = 1.0,
    concurrency: Mapping[str, int] | None = None,
) -> list[str]:
    """Candidates expected to meet ``latency_target_s`` first (order kept), the others after.

    Nothing is dropped: a candidate that would miss the target is still a fallback.
    """
    if latency_target_s is None:
        return list(candidates)
    limits = concurrency or {}
    meets: list[str] = []
    misses: list[str] = []
    for name in candidates:
        expected = health_of(name).expected_latency(default_latency_s, limits.get(name, 1))
        (meets if expected <= latency_target_s else misses).append(name)
    return meets + misses
