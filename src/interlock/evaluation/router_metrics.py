"""Metrics for a two-model router: quality against strong-model share (PGR, APGR) and cost (AIQ).

A router gives each item a score, the predicted chance that the weak (cheap) model is good
enough. Routing sends items whose score is at or below a threshold to the strong model;
sweeping the threshold from below the lowest score to the highest traces the router's curve,
from "all weak" to "all strong". Items with equal scores always move together, so the curve
does not depend on item order and a constant score gives just the two end points.

Outcomes are per-item scores in [0, 1] for each model (correctness as booleans, or graded).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class RouterCurve:
    """The router's sweep: one point per distinct score, plus the "all weak" start.

    ``strong_fraction[k]`` and ``quality[k]`` describe routing the ``k`` lowest-scored groups
    of items to the strong model; ``quality`` is the mean outcome over all items.
    """

    strong_fraction: FloatArray
    quality: FloatArray
    weak_quality: float
    strong_quality: float


def _outcomes(name: str, values: ArrayLike, n: int | None) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array")
    if n is not None and array.size != n:
        raise ValueError(f"{name} has {array.size} items, expected {n}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite")
    return array


def _unit_outcomes(name: str, values: ArrayLike, n: int) -> FloatArray:
    array = _outcomes(name, values, n)
    if array.min() < 0.0 or array.max() > 1.0:
        raise ValueError(f"{name} must lie in [0, 1]")
    return array


def _area(y: FloatArray, x: FloatArray) -> float:
    """Trapezoid rule (``np.trapezoid`` needs numpy 2)."""
    return float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2.0))


def _sweep(scores: FloatArray, per_item_gain: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Cumulative gain after each group of tied scores, lowest scores first; starts at 0."""
    order = np.argsort(scores, kind="stable")
    sorted_scores = scores[order]
    cumulative = np.concatenate([[0.0], np.cumsum(per_item_gain[order])])
    # The last index of each run of equal scores: ties switch to the strong model together.
    group_ends = np.flatnonzero(np.diff(sorted_scores) != 0) + 1
    cuts = np.concatenate([[0], group_ends, [scores.size]])
    return cuts.astype(np.float64), cumulative[cuts]


def pgr_curve(scores: ArrayLike, weak_correct: ArrayLike, strong_correct: ArrayLike) -> RouterCurve:
    """Strong-call fraction and quality as the threshold sweeps over ``scores``.

    Point ``k`` sends the items in the ``k`` lowest groups of equal scores to the strong model
    and the rest to the weak one; its quality is the mean outcome over all items.
    """
    s = _outcomes("scores", scores, None)
    weak = _unit_outcomes("weak_correct", weak_correct, s.size)
    strong = _unit_outcomes("strong_correct", strong_correct, s.size)
    counts, gains = _sweep(s, strong - weak)
    return RouterCurve(
        strong_fraction=counts / s.size,
        quality=(weak.sum() + gains) / s.size,
        weak_quality=float(weak.mean()),
        strong_quality=float(strong.mean()),
    )


def apgr(scores: ArrayLike, weak_correct: ArrayLike, strong_correct: ArrayLike) -> float:
    """Average performance gap recovered (RouteLLM): the area under PGR against strong-call fraction.

    PGR(q) = (q - q_weak) / (q_strong - q_weak), where q_weak and q_strong are the qualities of
    sending everything to one model; the area is taken with the trapezoid rule over the full
    curve from ``pgr_curve`` (RouteLLM's script samples the same curve at 10 score quantiles,
    which reads slightly lower on a concave curve). A router no better than chance scores
    about 0.5 (a constant score exactly 0.5); a perfect one can exceed 1, since routing an item
    the weak model gets right and the strong one gets wrong to the weak model beats "all strong".
    Raises ``ValueError`` when both models have the same mean quality (no gap to recover).
    """
    curve = pgr_curve(scores, weak_correct, strong_correct)
    gap = curve.strong_quality - curve.weak_quality
    if abs(gap) < 1e-12:
        raise ValueError("the two models have the same quality: there is no gap to recover")
    pgr = (curve.quality - curve.weak_quality) / gap
    return _area(pgr, curve.strong_fraction)


def _upper_hull(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The upper convex hull of points sorted by ``x`` (monotone chain)."""
    hull: list[int] = []
    for i in range(x.size):
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            # Drop b when it lies on or below the segment from a to i.
            if (x[b] - x[a]) * (y[i] - y[a]) - (y[b] - y[a]) * (x[i] - x[a]) >= 0:
                hull.pop()
            else:
                break
        hull.append(i)
    return x[hull], y[hull]


def aiq(
    scores: ArrayLike,
    weak_quality: ArrayLike,
    strong_quality: ArrayLike,
    weak_cost: ArrayLike,
    strong_cost: ArrayLike,
) -> float:
    """Average improvement in quality (RouterBench): mean height of the router's cost-quality frontier.

    Each threshold of the sweep gives a point (total cost, mean quality), the cost summing
    ``strong_cost`` over items sent to the strong model and ``weak_cost`` over the rest.
    The frontier is the non-decreasing upper convex hull of those points (mixing two
    thresholds at random reaches any point between them; past the best point, the money is
    simply not spent). AIQ is the area under it divided by the cost range, so it is in quality
    units: a chance router scores about the mean of the two models' qualities. Qualities may be
    booleans or graded scores in [0, 1]; costs are per item in any one currency.
    """
    s = _outcomes("scores", scores, None)
    weak = _unit_outcomes("weak_quality", weak_quality, s.size)
    strong = _unit_outcomes("strong_quality", strong_quality, s.size)
    w_cost = _outcomes("weak_cost", weak_cost, s.size)
    s_cost = _outcomes("strong_cost", strong_cost, s.size)
    _, gains = _sweep(s, strong - weak)
    _, extra_cost = _sweep(s, s_cost - w_cost)
    cost = w_cost.sum() + extra_cost
    quality = (weak.sum() + gains) / s.size
    order = np.lexsort((quality, cost))
    cost, quality = cost[order], quality[order]
    span = cost[-1] - cost[0]
    if span <= 0:
        raise ValueError("every routing costs the same: AIQ needs a cost range")
    hull_cost, hull_quality = _upper_hull(cost, quality)
    peak = int(np.argmax(hull_quality))
    # Non-decreasing: beyond the best point the frontier stays level to the top of the range.
    frontier_cost = np.append(hull_cost[: peak + 1], cost[-1])
    frontier_quality = np.append(hull_quality[: peak + 1], hull_quality[peak])
    return _area(frontier_quality, frontier_cost) / float(span)
