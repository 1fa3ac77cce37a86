"""Results built in code for report tests: per model, a quality and a cost per request on each task.

Items share ids across models (``extraction-7`` is the same prompt for every model), so calibration
can pair them; a model scores 1 on the first ``round(quality * n)`` items of a task and 0 on the rest.
"""

from __future__ import annotations

from collections.abc import Mapping

from interlock.evaluation import ItemResult, Results, ResultsHeader

ITEMS_PER_TASK = 40  # calibration wants at least 30 paired items before it moves traffic off the baseline


def build_results(
    quality: Mapping[str, Mapping[str, float]],
    cost_usd: Mapping[str, float | None],
    *,
    items: int = ITEMS_PER_TASK,
    latency_ms: Mapping[str, float] | None = None,
    suite: str = "hand-made",
) -> Results:
    rows = [
        ItemResult(
            item_id=f"{category}-{i}",
            model=model,
            category=category,
            score=1.0 if i < round(q * items) else 0.0,
            cost_usd=cost_usd[model],
            latency_ms=(latency_ms or {}).get(model, 100.0) * (1 + i / (2 * items)),
        )
        for model, by_task in quality.items()
        for category, q in by_task.items()
        for i in range(items)
    ]
    return Results(header=ResultsHeader(suite=suite, models=list(quality)), items=rows)
