"""Calibration: from results and a quality target, the per-category quality table routing reads.

Per category, the best model sets the bar; the cheapest model scoring at least ``target`` times
the best is the route. Expected cost and quality are weighted by a traffic mix (the suite's own
mix unless one is given) and set against a baseline: a named model or, by default, the model with
the best overall quality (sending everything there is "all-frontier"). Where the baseline has no
scores in a category, that category's best model stands in.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from interlock.evaluation.results import Results
from interlock.evaluation.stats import Cell, Summary, summarize


@dataclass(frozen=True, slots=True)
class Route:
    category: str
    model: str
    quality: float
    cost_per_1k_usd: float | None
    best_model: str
    best_quality: float
    baseline_model: str
    baseline_quality: float
    baseline_cost_per_1k_usd: float | None


def _weighted(mix: Mapping[str, float], values: Mapping[str, float | None]) -> float | None:
    total = 0.0
    for category, weight in mix.items():
        value = values[category]
        if value is None:
            return None
        total += weight * value
    return total


@dataclass(frozen=True)
class Calibration:
    suite: str
    target: float
    quality: dict[str, dict[str, float]]
    routes: dict[str, Route]
    mix: dict[str, float]
    open_models: frozenset[str] | None = None

    @property
    def expected_cost_per_1k_usd(self) -> float | None:
        return _weighted(self.mix, {c: r.cost_per_1k_usd for c, r in self.routes.items()})

    @property
    def baseline_cost_per_1k_usd(self) -> float | None:
        return _weighted(self.mix, {c: r.baseline_cost_per_1k_usd for c, r in self.routes.items()})

    @property
    def savings_fraction(self) -> float | None:
        """Share of the baseline's spend saved; None if a cost is unknown or the baseline is free."""
        expected, baseline = self.expected_cost_per_1k_usd, self.baseline_cost_per_1k_usd
        return 1 - expected / baseline if expected is not None and baseline else None

    @property
    def quality_fraction(self) -> float | None:
        """Routed quality as a fraction of the baseline's, both weighted by the mix."""
        routed = _weighted(self.mix, {c: r.quality for c, r in self.routes.items()})
        baseline = _weighted(self.mix, {c: r.baseline_quality for c, r in self.routes.items()})
        return routed / baseline if routed is not None and baseline else None

    @property
    def open_share(self) -> float | None:
        """Share of the traffic the routes send to open-weight models (when those are named)."""
        if self.open_models is None:
            return None
        return sum(w for c, w in self.mix.items() if self.routes[c].model in self.open_models)

    def monthly_savings_usd(self, requests_per_month: float) -> float | None:
        expected, baseline = self.expected_cost_per_1k_usd, self.baseline_cost_per_1k_usd
        if expected is None or baseline is None:
            return None
        return (baseline - expected) * requests_per_month / 1000

    def to_policy(self) -> dict[str, Any]:
        def rounded(value: float | None) -> float | None:
            return None if value is None else round(value, 6)

        return {
            "kind": "interlock.quality_table",
            "version": 1,
            "suite": self.suite,
            "target": self.target,
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "quality": self.quality,
            "routes": {c: r.model for c, r in self.routes.items()},
            "expected": {
                "mix": {c: round(w, 6) for c, w in self.mix.items()},
                "cost_per_1k_usd": rounded(self.expected_cost_per_1k_usd),
                "baseline_cost_per_1k_usd": rounded(self.baseline_cost_per_1k_usd),
                "savings_fraction": rounded(self.savings_fraction),
                "quality_fraction": rounded(self.quality_fraction),
                "open_share": rounded(self.open_share),
            },
        }

    def to_yaml(self) -> str:
        header = "# Per-category quality table calibrated from evaluation results; routing reads `quality`.\n"
        return header + str(yaml.safe_dump(self.to_policy(), sort_keys=False, allow_unicode=True))

    def write(self, path: str | Path) -> None:
        Path(path).write_text(self.to_yaml(), encoding="utf-8")


def _cost_key(cell: Cell) -> tuple[float, float]:
    return (cell.cost_per_1k_usd if cell.cost_per_1k_usd is not None else math.inf, -(cell.quality or 0.0))


def _route(summary: Summary, category: str, target: float, baseline: str) -> Route | None:
    cells = [c for m in summary.models if (c := summary.cell(m, category)) and c.quality is not None]
    if not cells:
        return None
    best = max(cells, key=lambda c: (c.quality, -_cost_key(c)[0]))
    assert best.quality is not None
    eligible = [c for c in cells if c.quality is not None and c.quality >= target * best.quality - 1e-12]
    chosen = min(eligible, key=_cost_key)
    base = next((c for c in cells if c.model == baseline), best)
    return Route(
        category,
        chosen.model,
        chosen.quality or 0.0,
        chosen.cost_per_1k_usd,
        best.model,
        best.quality,
        base.model,
        base.quality or 0.0,
        base.cost_per_1k_usd,
    )


def default_baseline(summary: Summary) -> str:
    """The model with the best overall quality, ties going to the costlier: today's all-frontier choice."""
    cells = [c for m in summary.models if (c := summary.cell(m)) is not None and c.quality is not None]
    if not cells:
        raise ValueError("no model has any scored item")
    return max(cells, key=lambda c: (c.quality, c.cost_per_1k_usd or 0.0)).model


def _default_mix(summary: Summary, categories: list[str]) -> dict[str, float]:
    counts = {
        c: max((cell.n + cell.failed for m in summary.models if (cell := summary.cell(m, c))), default=0)
        for c in categories
    }
    return {c: float(n) for c, n in counts.items()}


def calibrate(
    results: Results,
    target: float = 0.95,
    *,
    mix: Mapping[str, float] | None = None,
    baseline: str | None = None,
    open_models: Collection[str] | None = None,
) -> Calibration:
    """Routes and quality table at ``target`` (a fraction of the best model's quality, in (0, 1])."""
    if not 0 < target <= 1:
        raise ValueError(f"target must be in (0, 1], got {target}")
    if baseline is not None and baseline not in results.models:
        raise ValueError(f"baseline {baseline!r} is not among the evaluated models {results.models}")
    summary = summarize(results, resamples=200)
    baseline = baseline or default_baseline(summary)
    routes = {c: r for c in summary.categories if (r := _route(summary, c, target, baseline)) is not None}
    raw = dict(mix) if mix is not None else _default_mix(summary, list(routes))
    if any(w < 0 for w in raw.values()):
        raise ValueError("traffic mix weights must not be negative")
    raw = {c: w for c, w in raw.items() if c in routes and w > 0}
    total = sum(raw.values())
    if not total:
        raise ValueError("the traffic mix has no weight on any evaluated category")
    return Calibration(
        suite=results.header.suite,
        target=target,
        quality=summary.quality_table(),
        routes=routes,
        mix={c: w / total for c, w in raw.items()},
        open_models=frozenset(open_models) if open_models is not None else None,
    )
