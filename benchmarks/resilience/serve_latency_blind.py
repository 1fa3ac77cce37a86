"""``interlock serve`` with a latency-blind replica balancer: the baseline of the hedging benchmark.

The gateway's config has no switch for its balancing strategy (power of two choices by queue and
observed health), so this launcher replaces ``ReplicaBalancer.order`` in this
process only with a uniform random order, which is what a latency-blind balancer (random or
round-robin) does over independent requests. Everything else is the shipped gateway; run it with
the same arguments as ``interlock serve`` and with hedging disabled in the config.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from interlock.cli.main import app
from interlock.resilience.balancer import HealthOf, ReplicaBalancer

_rng = random.Random(0)


def _random_order(
    self: ReplicaBalancer, replicas: Sequence[str], health_of: HealthOf, concurrency: object = None,
    now: object = None,
) -> list[str]:
    order = list(replicas)
    _rng.shuffle(order)
    return order


if __name__ == "__main__":
    ReplicaBalancer.order = _random_order  # type: ignore[method-assign]
    app()
