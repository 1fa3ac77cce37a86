"""Latency-aware choice among replicas of one model, and spill-over past a latency target.

``ReplicaBalancer.order`` puts first the better of two randomly drawn replicas (power of two
choices), scoring each by in-flight requests weighted by its latency EWMA; the rest follow
best-first as fallbacks. ``spill_over`` moves candidates whose expected latency (queue depth
times recent latency) would miss a route's target behind those that would meet it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field

from interlock.resilience.health import DeploymentHealth

HealthOf = Callable[[str], DeploymentHealth]


class BalancerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    default_latency_s: float = Field(1.0, gt=0, description="assumed latency of a replica not yet observed")


class ReplicaBalancer:
    def __init__(self, rng: random.Random, settings: BalancerSettings | None = None) -> None:
        self._rng = rng
        self.settings = settings or BalancerSettings()

    def score(self, health: DeploymentHealth, concurrency: int = 1) -> float:
        """Lower is better: queue depth (in-flight over what the replica serves at once) x latency EWMA."""
        return health.expected_latency(self.settings.default_latency_s, concurrency)

    def order(
        self, replicas: Sequence[str], health_of: HealthOf, concurrency: Mapping[str, int] | None = None
    ) -> list[str]:
        """All of ``replicas``: the power-of-two-choices pick first, then the rest best-first."""
        if len(replicas) <= 1:
            return list(replicas)
        limits = concurrency or {}

        def score(name: str) -> float:
            return self.score(health_of(name), limits.get(name, 1))

        a, b = self._rng.sample(list(replicas), 2)
        first = b if score(b) < score(a) else a
        rest = sorted((r for r in replicas if r != first), key=score)
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
