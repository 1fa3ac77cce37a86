"""Router metrics on cases small enough to work out by hand, plus the chance and symmetry laws."""

from __future__ import annotations

import numpy as np
import pytest

from interlock.evaluation.router_metrics import aiq, apgr, pgr_curve

# Four prompts: both right, only strong right (twice), only weak right.
WEAK = np.array([1, 0, 0, 1], dtype=bool)
STRONG = np.array([1, 1, 1, 0], dtype=bool)
ORACLE = WEAK.astype(float) - STRONG  # 0, -1, -1, 1: strong-only prompts lowest
WEAK_COST = np.ones(4)
STRONG_COST = np.full(4, 3.0)


def test_oracle_curve_moves_tied_prompts_together() -> None:
    curve = pgr_curve(ORACLE, WEAK, STRONG)
    assert curve.weak_quality == 0.5
    assert curve.strong_quality == 0.75
    # Start, the two tied strong-only prompts, the both-right one, the weak-only one.
    np.testing.assert_allclose(curve.strong_fraction, [0.0, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(curve.quality, [0.5, 1.0, 1.0, 0.75])


def test_oracle_apgr_by_hand() -> None:
    # PGR = (q - 0.5) / 0.25 = 0, 2, 2, 1 at f = 0, .5, .75, 1:
    # 0.5 * (0 + 2) / 2 + 0.25 * 2 + 0.25 * (2 + 1) / 2 = 0.5 + 0.5 + 0.375
    assert apgr(ORACLE, WEAK, STRONG) == pytest.approx(1.375)


def test_reversed_router_by_hand_and_mirror_law() -> None:
    # Weak-only prompt first (q 0.25), then both-right (0.25), then the two strong-only (0.75):
    # PGR 0, -1, -1, 1 at f = 0, .25, .5, 1 -> -0.125 - 0.25 + 0 = -0.375
    assert apgr(-ORACLE, WEAK, STRONG) == pytest.approx(-0.375)
    assert apgr(ORACLE, WEAK, STRONG) + apgr(-ORACLE, WEAK, STRONG) == pytest.approx(1.0)


def test_mirror_law_on_random_outcomes() -> None:
    rng = np.random.default_rng(7)
    weak, strong = rng.random(500) < 0.6, rng.random(500) < 0.8
    scores = rng.normal(size=500)
    assert apgr(scores, weak, strong) + apgr(-scores, weak, strong) == pytest.approx(1.0)


def test_constant_scores_give_exactly_one_half() -> None:
    curve = pgr_curve(np.full(4, 0.3), WEAK, STRONG)
    np.testing.assert_allclose(curve.strong_fraction, [0.0, 1.0])
    assert apgr(np.full(4, 0.3), WEAK, STRONG) == pytest.approx(0.5)


def test_random_router_is_near_one_half() -> None:
    rng = np.random.default_rng(0)
    n = 200_000
    weak, strong = rng.random(n) < 0.65, rng.random(n) < 0.85
    assert apgr(rng.random(n), weak, strong) == pytest.approx(0.5, abs=0.01)


def test_curve_does_not_depend_on_item_order() -> None:
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 5, size=300).astype(float)  # many ties
    weak, strong = rng.random(300) < 0.5, rng.random(300) < 0.7
    order = rng.permutation(300)
    a = pgr_curve(scores, weak, strong)
    b = pgr_curve(scores[order], weak[order], strong[order])
    np.testing.assert_allclose(a.quality, b.quality)
    np.testing.assert_allclose(a.strong_fraction, b.strong_fraction)
    assert len(a.quality) == 6  # start plus five distinct scores


def test_graded_outcomes() -> None:
    weak, strong = np.array([0.2, 0.6]), np.array([0.8, 0.7])
    curve = pgr_curve(np.array([0.1, 0.9]), weak, strong)
    np.testing.assert_allclose(curve.quality, [0.4, 0.7, 0.75])
    # PGR 0, 0.3 / 0.35, 1 at f = 0, .5, 1
    assert apgr(np.array([0.1, 0.9]), weak, strong) == pytest.approx(0.25 * (6 / 7) + 0.25 * (6 / 7 + 1))


def test_apgr_needs_a_gap() -> None:
    with pytest.raises(ValueError, match="no gap"):
        apgr(np.arange(3.0), [1, 0, 1], [0, 1, 1])


@pytest.mark.parametrize(
    ("scores", "weak", "strong", "message"),
    [
        ([], [], [], "non-empty"),
        ([0.1, 0.2], [1, 0, 1], [1, 1], "expected 2"),
        ([0.1, np.nan], [1, 0], [1, 1], "finite"),
        ([0.1, 0.2], [1, 2], [1, 1], r"\[0, 1\]"),
    ],
)
def test_bad_input_is_refused(
    scores: list[float], weak: list[float], strong: list[float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        pgr_curve(scores, weak, strong)


def test_aiq_oracle_by_hand() -> None:
    # Points (cost, quality): (4, .5), (8, 1), (10, 1), (12, .75). The frontier rises to (8, 1)
    # and stays level: area 4 * (0.5 + 1) / 2 + 4 * 1 = 7 over a cost range of 8.
    assert aiq(ORACLE, WEAK, STRONG, WEAK_COST, STRONG_COST) == pytest.approx(7 / 8)


def test_aiq_constant_router_is_the_mean_of_both_models() -> None:
    assert aiq(np.zeros(4), WEAK, STRONG, WEAK_COST, STRONG_COST) == pytest.approx((0.5 + 0.75) / 2)


def test_aiq_stays_level_when_the_cheap_model_is_better() -> None:
    assert aiq(np.zeros(4), STRONG, WEAK, WEAK_COST, STRONG_COST) == pytest.approx(0.75)


def test_aiq_bridges_dips_with_the_convex_hull() -> None:
    # Reversed router: (4, .5), (6, .25), (8, .25), (12, .75); the hull is the straight line
    # from the first point to the last, whatever lies below it.
    assert aiq(-ORACLE, WEAK, STRONG, WEAK_COST, STRONG_COST) == pytest.approx((0.5 + 0.75) / 2)


def test_aiq_with_graded_quality_and_per_item_costs() -> None:
    weak, strong = np.array([0.2, 0.6]), np.array([0.8, 0.7])
    # Points (2, .4), (3, .7), (5, .75): concave, all on the frontier.
    value = aiq(np.array([0.1, 0.9]), weak, strong, np.array([1.0, 1.0]), np.array([2.0, 3.0]))
    assert value == pytest.approx(((0.4 + 0.7) / 2 + 2 * (0.7 + 0.75) / 2) / 3)


def test_aiq_does_not_depend_on_the_currency() -> None:
    rng = np.random.default_rng(1)
    weak, strong = rng.random(400) < 0.6, rng.random(400) < 0.8
    scores, w_cost, s_cost = rng.random(400), rng.random(400), 5 + rng.random(400)
    assert aiq(scores, weak, strong, w_cost, s_cost) == pytest.approx(
        aiq(scores, weak, strong, w_cost * 1e-6, s_cost * 1e-6)
    )


def test_aiq_needs_a_cost_range() -> None:
    with pytest.raises(ValueError, match="cost range"):
        aiq(np.arange(4.0), WEAK, STRONG, WEAK_COST, WEAK_COST)
