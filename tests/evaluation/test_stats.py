import pytest

from interlock.evaluation import (
    ItemResult,
    Results,
    ResultsHeader,
    compare_to_best,
    pareto_frontier,
    summarize,
)
from interlock.evaluation.stats import bootstrap_interval, percentile, quality_cost_points, wilson_interval


def row(model, category, score, cost=None, latency=100.0, error=None):
    return ItemResult(
        item_id=f"{category}-{score}-{latency}",
        model=model,
        category=category,
        score=score,
        cost_usd=cost,
        latency_ms=latency,
        error=error,
    )


def results():
    items = []
    for i in range(10):
        items.append(row("frontier", "classification", 1.0, cost=0.01, latency=800 + i))
        items.append(row("open", "classification", 1.0 if i < 9 else 0.0, cost=0.001, latency=100 + i))
        items.append(row("frontier", "extraction", 0.9, cost=0.02, latency=900))
        items.append(row("open", "extraction", 0.45, cost=0.002, latency=150))
    items.append(row("open", "extraction", None, error="HTTP 500"))
    return Results(header=ResultsHeader(suite="s", models=["frontier", "open"]), items=items)


def test_wilson_interval_known_values():
    interval = wilson_interval(9, 10)
    assert interval.low == pytest.approx(0.5958, abs=1e-4) and interval.high == pytest.approx(
        0.9821, abs=1e-4
    )
    assert wilson_interval(0, 0).low == 0.0


def test_bootstrap_interval_is_seeded_and_brackets_the_mean():
    values = [0.2, 0.4, 0.6, 0.8, 1.0]
    first, second = bootstrap_interval(values), bootstrap_interval(values)
    assert first == second and first.low < 0.6 < first.high


def test_summary_per_model_per_category():
    summary = summarize(results())
    open_cls = summary.cell("open", "classification")
    assert open_cls.quality == 0.9 and open_cls.n == 10 and open_cls.failed == 0
    assert open_cls.interval.low < 0.9 < open_cls.interval.high  # Wilson: all scores are 0/1
    open_ext = summary.cell("open", "extraction")
    assert open_ext.n == 10 and open_ext.failed == 1 and open_ext.quality == pytest.approx(0.45)
    assert open_ext.cost_per_1k_usd == pytest.approx(2.0)
    frontier = summary.cell("frontier")
    assert frontier.cost_per_1k_usd == pytest.approx(15.0)
    assert frontier.latency_p50_ms == pytest.approx(percentile([800 + i for i in range(10)] + [900] * 10, 50))
    assert summary.categories == ["extraction", "classification"]
    assert summary.quality_table() == {
        "frontier": {"extraction": 0.9, "classification": 1.0},
        "open": {"extraction": 0.45, "classification": 0.9},
    }


def test_comparison_sentence():
    [comparison] = compare_to_best(summarize(results()), "classification")
    assert comparison.model == "open" and comparison.best_model == "frontier"
    assert comparison.sentence() == "open reaches 90% of frontier's quality at 10% of its cost"


def test_pareto_frontier():
    points = {"a": (1.0, 0.5), "b": (2.0, 0.8), "c": (3.0, 0.7), "d": (0.5, 0.5), "e": (5.0, 0.9)}
    assert pareto_frontier(points) == ["d", "b", "e"]
    assert quality_cost_points(summarize(results())) == {
        "frontier": pytest.approx((15.0, 0.95)),
        "open": pytest.approx((1.5, 0.675)),
    }
