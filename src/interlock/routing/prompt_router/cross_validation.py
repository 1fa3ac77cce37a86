"""Held-out scores for the per-prompt router: each prompt scored by a router that never saw it.

Calibration picks routing thresholds on these scores rather than on training-set scores, which
are too confident. Folds are stratified on "cheap model good enough" (label >= 0.5) and seeded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from interlock.routing.prompt_router.model import PromptRouter, training_data
from interlock.routing.prompt_router.settings import PromptRouterSettings


def _fold_scores(
    texts: list[str], labels: np.ndarray, train: np.ndarray, test: np.ndarray, settings: PromptRouterSettings
) -> np.ndarray:
    router = PromptRouter.fit([texts[i] for i in train], labels[train], settings)
    return router.score_many([texts[i] for i in test])


def out_of_fold_scores(
    texts: Sequence[str],
    labels: Any,
    settings: PromptRouterSettings | None = None,
    folds: int = 5,
    seed: int = 0,
    *,
    jobs: int = 1,
) -> np.ndarray:
    """Score every prompt with a router fitted on the other ``folds - 1`` folds.

    The routers inside are fitted without their own out-of-fold evaluation. ``jobs`` fits
    folds in parallel processes. Raises ``ValueError`` on bad input or when either outcome has
    fewer prompts than there are folds.
    """
    from joblib import Parallel, delayed
    from sklearn.model_selection import StratifiedKFold

    texts, values = training_data(texts, labels)
    if folds < 2:
        raise ValueError(f"folds must be at least 2, got {folds}")
    good = values >= 0.5
    smaller = int(min(good.sum(), (~good).sum()))
    if smaller < folds:
        raise ValueError(f"only {smaller} prompts have the rarer outcome: too few for {folds} folds")
    settings = settings or PromptRouterSettings()
    settings = replace(settings, evaluation_folds=0)
    splits = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(values)), good))
    parts = Parallel(n_jobs=jobs)(delayed(_fold_scores)(texts, values, tr, te, settings) for tr, te in splits)
    scores = np.empty(len(values))
    for (_, test), part in zip(splits, parts, strict=True):
        scores[test] = part
    return scores


def out_of_fold_metrics(scores: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """AUC of finding the prompts where the cheap model is good enough (label >= 0.5), and the
    Brier score (mean squared error of the score against the label)."""
    from sklearn.metrics import roc_auc_score

    return {
        "auc": round(float(roc_auc_score(labels >= 0.5, scores)), 4),
        "brier": round(float(np.mean((scores - labels) ** 2)), 4),
    }
