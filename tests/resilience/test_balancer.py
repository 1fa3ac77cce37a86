from __future__ import annotations

import random
from collections import Counter

from interlock.resilience.balancer import ReplicaBalancer, spill_over
from interlock.resilience.clock import ManualClock
from interlock.resilience.health import DeploymentHealth


def fleet(
    latencies: dict[str, float], in_flight: dict[str, int] | None = None
) -> dict[str, DeploymentHealth]:
    clock = ManualClock()
    out = {}
    for name, latency in latencies.items():
        health = DeploymentHealth(name, clock)
        health.started()
        health.succeeded(latency)
        for _ in range((in_flight or {}).get(name, 0)):
            health.started()
        out[name] = health
    return out


def picks(balancer: ReplicaBalancer, health: dict[str, DeploymentHealth], n: int = 2000) -> Counter[str]:
    return Counter(balancer.order(list(health), health.__getitem__)[0] for _ in range(n))


def test_two_replicas_the_faster_always_goes_first() -> None:
    health = fleet({"slow": 0.8, "fast": 0.05})
    counts = picks(ReplicaBalancer(random.Random(0)), health)
    assert counts == Counter({"fast": 2000})


def test_power_of_two_choices_prefers_fast_and_never_picks_the_worst() -> None:
    health = fleet({"a": 0.05, "b": 0.1, "c": 0.4, "d": 0.8})
    counts = picks(ReplicaBalancer(random.Random(42)), health)
    assert counts["a"] > counts["b"] > counts["c"]
    assert counts["d"] == 0  # the worst never wins a pair
    assert 0.4 < counts["a"] / 2000 < 0.6  # a wins every pair it is in: 3 of 6 pairs


def test_in_flight_load_outweighs_a_small_latency_edge() -> None:
    health = fleet({"busy": 0.05, "idle": 0.08}, in_flight={"busy": 5})
    assert picks(ReplicaBalancer(random.Random(3)), health) == Counter({"idle": 2000})


def test_order_keeps_every_replica_as_a_fallback_best_first() -> None:
    health = fleet({"a": 0.3, "b": 0.1, "c": 0.2})
    order = ReplicaBalancer(random.Random(5)).order(["a", "b", "c"], health.__getitem__)
    assert sorted(order) == ["a", "b", "c"]
    assert order[1:] == sorted(order[1:], key=lambda n: health[n].latency_ewma.value or 0)


def test_seeded_rng_makes_the_choice_reproducible() -> None:
    health = fleet({"a": 0.1, "b": 0.1, "c": 0.1})
    first = [ReplicaBalancer(random.Random(9)).order(list(health), health.__getitem__) for _ in range(1)]
    again = [ReplicaBalancer(random.Random(9)).order(list(health), health.__getitem__) for _ in range(1)]
    assert first == again


def test_spill_over_moves_candidates_that_would_miss_the_target_behind() -> None:
    health = fleet({"local": 0.4, "vendor": 0.9}, in_flight={"local": 3})  # local expects 4 x 0.4 = 1.6s
    assert spill_over(["local", "vendor"], health.__getitem__, 1.0) == ["vendor", "local"]
    assert spill_over(["local", "vendor"], health.__getitem__, 2.0) == ["local", "vendor"]
    assert spill_over(["local", "vendor"], health.__getitem__, None) == ["local", "vendor"]
    batching = spill_over(["local", "vendor"], health.__getitem__, 1.0, concurrency={"local": 8})
    assert batching == ["local", "vendor"]  # a batching server serves 4 at once


def test_a_batching_replica_keeps_winning_under_load_that_it_absorbs() -> None:
    # 16 in flight on a replica that serves 64 at once is no queue at all; on a one-at-a-time replica it is.
    health = fleet({"fast": 0.05, "slow": 0.8}, in_flight={"fast": 16})
    batching = ReplicaBalancer(random.Random(1)).order(["fast", "slow"], health.__getitem__, {"fast": 64, "slow": 64})
    serial = ReplicaBalancer(random.Random(1)).order(["fast", "slow"], health.__getitem__)
    assert batching[0] == "fast" and serial[0] == "slow"
