"""Summarising an alias's shadow results: agreement between the sides, latency and cost of each.

Exact agreement compares answers after folding case and whitespace; scored agreement averages a
pluggable ``PairScorer(reference, candidate) -> [0, 1]`` over the pairs where both sides answered
(``registry_scorer`` adapts the evaluation harness's scorers, with the primary as reference).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from interlock.versions.results import ShadowResult, SideOutcome

PairScorer = Callable[[str, str], float]


def normalise(text: str) -> str:
    return " ".join(text.casefold().split())


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in [0, 100]); ``None`` for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class SideSummary:
    models: tuple[str, ...]
    answered: int
    errors: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    priced: int
    total_cost_usd: Decimal | None
    mean_cost_usd: Decimal | None


@dataclass(frozen=True, slots=True)
class ShadowSummary:
    alias: str
    count: int
    compared: int
    exact_agreement: float | None
    scored_agreement: float | None
    primary: SideSummary
    shadow: SideSummary

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for side in ("primary", "shadow"):
            for key in ("total_cost_usd", "mean_cost_usd"):
                value = out[side][key]
                out[side][key] = None if value is None else format(value.normalize(), "f")
            out[side]["models"] = list(out[side]["models"])
        return out


def summarise_side(sides: Sequence[SideOutcome]) -> SideSummary:
    answered = [s for s in sides if s.ok]
    latencies = [float(s.latency_ms) for s in answered if s.latency_ms is not None]
    costs = [s.cost_usd for s in answered if s.cost_usd is not None]
    total = sum(costs, Decimal(0)) if costs else None
    return SideSummary(
        models=tuple(sorted({s.model for s in sides})),
        answered=len(answered),
        errors=len(sides) - len(answered),
        latency_p50_ms=percentile(latencies, 50),
        latency_p95_ms=percentile(latencies, 95),
        priced=len(costs),
        total_cost_usd=total,
        mean_cost_usd=total / len(costs) if total is not None else None,
    )


def summarise(alias: str, results: Sequence[ShadowResult], scorer: PairScorer | None = None) -> ShadowSummary:
    pairs = [(r.primary.text or "", r.shadow.text or "") for r in results if r.primary.ok and r.shadow.ok]
    exact = sum(normalise(a) == normalise(b) for a, b in pairs) / len(pairs) if pairs else None
    scored = None
    if scorer is not None and pairs:
        scored = sum(min(1.0, max(0.0, float(scorer(a, b)))) for a, b in pairs) / len(pairs)
    return ShadowSummary(
        alias=alias,
        count=len(results),
        compared=len(pairs),
        exact_agreement=exact,
        scored_agreement=scored,
        primary=summarise_side([r.primary for r in results]),
        shadow=summarise_side([r.shadow for r in results]),
    )


def registry_scorer(name: str) -> PairScorer:
    """An evaluation scorer (e.g. ``rouge_l``) with default options, scoring the shadow against the primary.

    Only scorers that read a text ``expected`` and need no judge model or sandbox fit here.
    """
    from interlock.evaluation.scorers import ScoringContext, scorer_type
    from interlock.evaluation.suite import SuiteItem, TaskCategory

    kind = scorer_type(name)
    options = kind.parse_options({})
    scorer = kind.build(options, ScoringContext())

    def score(reference: str, candidate: str) -> float:
        item = SuiteItem(
            id="shadow",
            messages=(),
            category=TaskCategory.GENERAL_CHAT,
            expected=kind.parse_expected(reference),
            scorer=name,
            options=options,
            max_tokens=None,
            temperature=0.0,
            line=0,
        )
        return scorer.score(item, candidate).value

    return score
