"""Per-prompt routers for calibration: learn from outcomes which prompts the cheaper model handles.

For one task and a (cheaper, stronger) pair, an item's label is ``(1 + cheap - strong) / 2``: 1 when
only the cheaper model got it right, 0 when only the stronger did, 1/2 when they did the same (a
graded label measured better than "cheaper at least as good": APGR 0.694 against 0.656 on MMLU,
benchmarks/routing_economics). Out-of-fold scores (5 folds, each prompt scored by a router that never saw it)
choose the threshold: the one sending the most prompts to the cheaper model while the paired upper
bound keeps routed quality above the floor (``quality_floor.best_threshold``). The router fitted on
every prompt is written beside the policy and pinned by its SHA-256; the gateway scores live
prompts with it and applies the same threshold.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np

from interlock.evaluation.calibration import Option
from interlock.evaluation.outcomes import TaskOutcomes
from interlock.evaluation.quality_floor import best_threshold
from interlock.evaluation.router_metrics import aiq, apgr
from interlock.routing.classifier.features import prompt_text
from interlock.routing.policy_file import PromptRule
from interlock.routing.prompt_router import PromptRouter, PromptRouterSettings, out_of_fold_scores

MIN_ITEMS = 200  # fewer paired prompts than this: a router would mostly learn noise
FOLDS = 5


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:60]


class OutOfFoldRouterTrainer:
    """Offers calibration a per-prompt router per task and model pair; writes the winners beside ``policy``."""

    def __init__(self, policy: Path, min_items: int = MIN_ITEMS) -> None:
        self.policy = policy
        self.min_items = min_items

    def offer(self, outcomes: TaskOutcomes, cheap: str, strong: str, target: float, risk: float) -> Option | None:
        mask = outcomes.paired(cheap, strong) & np.array([i in outcomes.messages for i in outcomes.item_ids])
        if int(mask.sum()) < self.min_items:
            return None
        ids = [i for i, keep in zip(outcomes.item_ids, mask) if keep]
        texts = [prompt_text(outcomes.messages[i]).combined() for i in ids]
        weak_scores, strong_scores = outcomes.scores[cheap][mask], outcomes.scores[strong][mask]
        labels = (1.0 + weak_scores - strong_scores) / 2.0
        if labels.min() >= 0.5 or labels.max() <= 0.5:
            return None  # one model never loses: a plain share says it all
        settings = PromptRouterSettings(evaluation_folds=0)  # the folds below are the evaluation
        try:
            oof = out_of_fold_scores(texts, labels, settings, folds=FOLDS, seed=0)
        except ValueError:  # too few prompts of one outcome to fill the folds
            return None
        threshold, share = best_threshold(oof, weak_scores, strong_scores, target, risk)
        if share <= 0.0:
            return None
        costs = (outcomes.costs[cheap][mask], outcomes.costs[strong][mask])
        metrics = {"apgr": round(apgr(oof, weak_scores, strong_scores), 4),
                   "aiq": round(aiq(oof, weak_scores, strong_scores, *costs), 4), "items": float(len(ids))}

        def save() -> PromptRule:
            """Fit on every prompt and write the router: only for the option calibration picks."""
            router = PromptRouter.fit(texts, labels, settings)
            path = self.policy.with_name(f"{self.policy.stem}.router.{_slug(outcomes.task)}.{_slug(cheap)}.joblib")
            router.save(path)
            return PromptRule(path=path.name, sha256=hashlib.sha256(path.read_bytes()).hexdigest(), cheap=cheap,
                              strong=strong, threshold=threshold, cheap_share=round(share, 6), metrics=metrics)

        return Option("prompt_router", cheap, (oof >= threshold).astype(float), mask, save=save)
