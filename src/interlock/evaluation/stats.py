"""Summary statistics for the report: quality with confidence intervals, latency, cost, comparisons.

Quality is the mean score of the items a model answered and that were scored; failed items are
counted apart, not as zeros (a rerun retries them). Intervals are Wilson score intervals when
every score is 0 or 1, percentile bootstrap (seeded) otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from interlock.evaluation.results import ItemResult, Results
from interlock.evaluation.suite import TaskCategory

OVERALL = "overall"


@dataclass(frozen=True, slots=True)
class Interval:
    low: float
    high: float


def wilson_interval(successes: float, n: int, level: float = 0.95) -> Interval:
    if n == 0:
        return Interval(0.0, 1.0)
    z = NormalDist().inv_cdf(0.5 + level / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Interval(max(0.0, float(centre - half)), min(1.0, float(centre + half)))


def bootstrap_interval(
    values: Sequence[float],
    level: float = 0.95,
    resamples: int = 2000,
    rng: np.random.Generator | None = None,
) -> Interval:
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return Interval(0.0, 1.0)
    rng = rng or np.random.default_rng(0)
    means = data[rng.integers(0, data.size, size=(resamples, data.size))].mean(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return Interval(float(low), float(high))


def quality_interval(
    values: Sequence[float],
    level: float = 0.95,
    resamples: int = 2000,
    rng: np.random.Generator | None = None,
) -> Interval:
    if all(v in (0.0, 1.0) for v in values):
        return wilson_interval(sum(values), len(values), level)
    return bootstrap_interval(values, level, resamples, rng)


def percentile(values: Sequence[float], q: float) -> float | None:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else None


@dataclass(frozen=True, slots=True)
class Cell:
    """One model on one category (or ``overall``)."""

    model: str
    category: str
    n: int
    failed: int
    quality: float | None
    interval: Interval | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    cost_per_1k_usd: float | None


@dataclass(frozen=True)
class Summary:
    models: list[str]
    categories: list[str]
    cells: dict[tuple[str, str], Cell]

    def cell(self, model: str, category: str = OVERALL) -> Cell | None:
        return self.cells.get((model, category))

    def quality_table(self) -> dict[str, dict[str, float]]:
        """``{model: {category: quality}}`` for categories the model was scored on."""
        return {
            model: {
                c: round(cell.quality, 4)
                for c in self.categories
                if (cell := self.cell(model, c)) is not None and cell.quality is not None
            }
            for model in self.models
        }


def _cell(
    model: str, category: str, rows: list[ItemResult], level: float, resamples: int, rng: np.random.Generator
) -> Cell:
    scores = [r.score for r in rows if r.ok and r.score is not None]
    latencies = [r.latency_ms for r in rows if r.latency_ms is not None and r.error is None]
    costs = [r.cost_usd for r in rows if r.cost_usd is not None]
    return Cell(
        model=model,
        category=category,
        n=len(scores),
        failed=sum(1 for r in rows if not r.ok),
        quality=float(np.mean(scores)) if scores else None,
        interval=quality_interval(scores, level, resamples, rng) if scores else None,
        latency_p50_ms=percentile(latencies, 50),
        latency_p95_ms=percentile(latencies, 95),
        cost_per_1k_usd=float(np.mean(costs)) * 1000 if costs else None,
    )


def category_order(categories: Iterable[str]) -> list[str]:
    known = [c.value for c in TaskCategory]
    return sorted(set(categories), key=lambda c: (known.index(c) if c in known else len(known), c))


def summarize(results: Results, *, level: float = 0.95, resamples: int = 2000, seed: int = 0) -> Summary:
    rng = np.random.default_rng(seed)
    categories = category_order(r.category for r in results.items)
    cells: dict[tuple[str, str], Cell] = {}
    for model in results.models:
        rows = results.for_model(model)
        for category in categories:
            in_category = [r for r in rows if r.category == category]
            if in_category:
                cells[(model, category)] = _cell(model, category, in_category, level, resamples, rng)
        cells[(model, OVERALL)] = _cell(model, OVERALL, rows, level, resamples, rng)
    return Summary(models=results.models, categories=categories, cells=cells)


@dataclass(frozen=True, slots=True)
class Comparison:
    """``model`` against the best-quality model on one category."""

    category: str
    model: str
    best_model: str
    quality_ratio: float
    cost_ratio: float | None

    def sentence(self) -> str:
        ratio = self.cost_ratio
        if ratio is None:
            cost = "unknown relative cost"
        elif ratio < 0.01:
            cost = "under 1% of its cost"
        elif ratio >= 2:
            cost = f"{ratio:.1f}× its cost"
        else:
            cost = f"{ratio:.0%} of its cost"
        return f"{self.model} reaches {self.quality_ratio:.0%} of {self.best_model}'s quality at {cost}"


def compare_to_best(summary: Summary, category: str = OVERALL) -> list[Comparison]:
    """Every other model against the best on ``category`` (ties go to the cheaper, then the first listed)."""
    scored = [c for m in summary.models if (c := summary.cell(m, category)) and c.quality is not None]
    if not scored:
        return []
    best = max(scored, key=lambda c: (c.quality, -(c.cost_per_1k_usd or 0.0)))
    out = []
    for cell in scored:
        if cell.model == best.model or cell.quality is None or best.quality is None:
            continue
        quality_ratio = cell.quality / best.quality if best.quality else 1.0
        cost_ratio = None
        if cell.cost_per_1k_usd is not None and best.cost_per_1k_usd:
            cost_ratio = cell.cost_per_1k_usd / best.cost_per_1k_usd
        out.append(Comparison(category, cell.model, best.model, quality_ratio, cost_ratio))
    return out


def quality_cost_points(summary: Summary, category: str = OVERALL) -> dict[str, tuple[float, float]]:
    """``{model: (cost per 1k requests, quality)}`` for models with both known."""
    return {
        m: (c.cost_per_1k_usd, c.quality)
        for m in summary.models
        if (c := summary.cell(m, category)) and c.cost_per_1k_usd is not None and c.quality is not None
    }


def pareto_frontier(points: Mapping[str, tuple[float, float]]) -> list[str]:
    """Names no other point dominates (no more cost and no less quality, strictly better in one), by cost."""
    frontier = []
    for name, (cost, quality) in points.items():
        dominated = any(
            c <= cost and q >= quality and (c < cost or q > quality)
            for other, (c, q) in points.items()
            if other != name
        )
        if not dominated:
            frontier.append(name)
    return sorted(frontier, key=lambda n: (points[n][0], -points[n][1]))
