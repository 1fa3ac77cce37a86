"""Evaluation results reshaped for calibration: per task, aligned per-item score and cost arrays per model.

Checks what calibration cannot work around and names the row: a model not in the header, a scored
row without a measured cost, a task with nothing scored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from interlock.evaluation.results import Results


class OutcomeError(ValueError):
    """The results cannot be calibrated on; the message names the row (1-based line in the file)."""


@dataclass(frozen=True)
class TaskOutcomes:
    """One task's items, aligned across models; NaN where a model has no scored answer."""

    task: str
    item_ids: list[str]
    scores: dict[str, np.ndarray]
    costs: dict[str, np.ndarray]
    messages: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    def paired(self, a: str, b: str) -> np.ndarray:
        """Mask of the items both models answered and were scored on."""
        return ~np.isnan(self.scores[a]) & ~np.isnan(self.scores[b])

    def answered(self, model: str) -> int:
        return int((~np.isnan(self.scores[model])).sum())


def task_outcomes(results: Results) -> dict[str, TaskOutcomes]:
    """Group results by task; every scored row must carry ``cost_usd``."""
    models = set(results.models)
    by_task: dict[str, dict[str, dict[str, tuple[float, float]]]] = {}
    messages: dict[str, dict[str, list[dict[str, str]]]] = {}
    for number, row in enumerate(results.items, start=2):  # line 1 is the header
        if row.model not in models:
            raise OutcomeError(f"row {number} (item {row.item_id!r}): model {row.model!r} is not in the results "
                               f"header's models {sorted(models)}")
        if not row.ok:
            continue
        if row.cost_usd is None:
            raise OutcomeError(f"row {number} (item {row.item_id!r}, model {row.model!r}): no cost_usd; calibration "
                               "ranks models by the cost each request measured, so every scored row needs one")
        assert row.score is not None
        by_task.setdefault(row.category, {}).setdefault(row.item_id, {})[row.model] = (row.score, row.cost_usd)
        if row.messages:
            messages.setdefault(row.category, {})[row.item_id] = row.messages
    out: dict[str, TaskOutcomes] = {}
    for task, items in by_task.items():
        ids = sorted(items)
        scores = {m: np.array([items[i].get(m, (np.nan, np.nan))[0] for i in ids], dtype=float) for m in results.models}
        costs = {m: np.array([items[i].get(m, (np.nan, np.nan))[1] for i in ids], dtype=float) for m in results.models}
        out[task] = TaskOutcomes(task, ids, scores, costs, messages.get(task, {}))
    if not out:
        raise OutcomeError("no scored rows: every item failed or was not scored")
    return out
