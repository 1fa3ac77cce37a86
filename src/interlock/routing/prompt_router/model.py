"""The per-prompt router: scores how likely the cheap model is good enough for one prompt.

Trained on outcomes: prompt texts with a label in [0, 1], 1 when the weak (cheap) model was good
enough, 0 when only the strong one was. Booleans (weak_score >= strong_score) work; a three-level
label, 0.5 when both models did equally well, ranks better (see the benchmark's README). The head
is a logistic regression on soft targets (cross-entropy against the label), so the score is
the predicted label. Serving needs numpy and joblib only: scikit-learn is imported to fit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from interlock.routing.prompt_router.featurizer import PromptFeaturizer
from interlock.routing.prompt_router.settings import PromptRouterSettings

ARTIFACT_FORMAT = 1
STRONGEST_FEATURES = 8


@dataclass(slots=True)
class PromptRouterArtifact:
    """What ``save`` writes: format version, training settings, features and weights."""

    settings: PromptRouterSettings
    featurizer: PromptFeaturizer
    coef: np.ndarray  # (n_features,)
    intercept: float
    training: dict[str, Any] = field(default_factory=dict)
    format: int = ARTIFACT_FORMAT


def training_data(texts: Sequence[str], labels: Any) -> tuple[list[str], np.ndarray]:
    """Validate prompts and labels: ``TypeError`` for a wrong type, ``ValueError`` for bad values."""
    if isinstance(texts, str) or not isinstance(texts, Sequence):
        raise TypeError("texts must be a sequence of prompt strings")
    if len(texts) == 0:
        raise ValueError("texts is empty: the router needs training prompts")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{i}] is {type(text).__name__}, not a string")
    values = np.asarray(labels, dtype=np.float64)
    if values.shape != (len(texts),):
        raise ValueError(
            f"labels must be a 1-D array of {len(texts)} values (one per text), got shape {values.shape}"
        )
    if not np.all(np.isfinite(values)) or values.min() < 0 or values.max() > 1:
        raise ValueError("labels must lie in [0, 1] (1: the cheap model was good enough)")
    good = int((values >= 0.5).sum())
    if good in (0, len(values)):
        side = "good enough (>= 0.5)" if good else "not good enough (< 0.5)"
        raise ValueError(
            f"every label says the cheap model was {side}: both outcomes are needed to learn a router"
        )
    return list(texts), values


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _fit_head(features: Any, labels: np.ndarray, settings: PromptRouterSettings) -> tuple[np.ndarray, float]:
    """Logistic regression on soft targets: each prompt is a positive with weight ``label``
    and a negative with weight ``1 - label`` (scikit-learn takes only hard classes)."""
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    n = features.shape[0]
    weights = np.concatenate([labels, 1.0 - labels])
    keep = weights > 0
    stacked = sp.vstack([features, features]).tocsr()[keep]
    targets = np.concatenate([np.ones(n), np.zeros(n)])[keep]
    head = LogisticRegression(C=settings.c, max_iter=5000, random_state=settings.seed)
    head.fit(stacked, targets, sample_weight=weights[keep])
    return np.ascontiguousarray(head.coef_[0], dtype=np.float64), float(head.intercept_[0])


class PromptRouter:
    """Predicts, per prompt, the chance that the cheap model is good enough (low: send it to the strong one)."""

    def __init__(self, artifact: PromptRouterArtifact) -> None:
        if artifact.format != ARTIFACT_FORMAT:
            raise ValueError(
                f"prompt router format {artifact.format} is not supported (expected {ARTIFACT_FORMAT})"
            )
        self.artifact = artifact
        self.settings = artifact.settings
        self._featurizer = artifact.featurizer
        self._coef = artifact.coef
        self._intercept = artifact.intercept

    @classmethod
    def fit(
        cls, texts: Sequence[str], labels: Any, settings: PromptRouterSettings | None = None
    ) -> PromptRouter:
        """Train on ``texts`` and ``labels`` (in [0, 1]); also scores held-out folds when
        ``settings.evaluation_folds`` is set, for ``describe()``."""
        settings = settings or PromptRouterSettings()
        texts, values = training_data(texts, labels)
        featurizer = PromptFeaturizer(settings).fit(texts)
        coef, intercept = _fit_head(featurizer.matrix(texts), values, settings)
        training: dict[str, Any] = {
            "size": len(texts),
            "label_mean": round(float(values.mean()), 4),
            "good_enough_share": round(float((values >= 0.5).mean()), 4),
            "out_of_fold": None,
        }
        if settings.evaluation_folds:
            # Imported here: cross-validation fits routers itself.
            from interlock.routing.prompt_router.cross_validation import (
                out_of_fold_metrics,
                out_of_fold_scores,
            )

            inner = replace(settings, evaluation_folds=0)
            held_out = out_of_fold_scores(
                texts, values, inner, folds=settings.evaluation_folds, seed=settings.seed
            )
            training["out_of_fold"] = {
                "folds": settings.evaluation_folds,
                **out_of_fold_metrics(held_out, values),
            }
        return cls(PromptRouterArtifact(settings, featurizer, coef, intercept, training))

    def score(self, text: str) -> float:
        """The chance in [0, 1] that the cheap model is good enough for this prompt."""
        if not isinstance(text, str):
            raise TypeError(f"a prompt must be a string, not {type(text).__name__}")
        row = self._featurizer.row(text)
        return _sigmoid(float(row.values @ self._coef[row.indices]) + self._intercept)

    def score_many(self, texts: Sequence[str]) -> np.ndarray:
        """``score`` of each prompt (the same arithmetic, so the same numbers)."""
        if isinstance(texts, str):
            raise TypeError("score_many takes a sequence of prompts; use score() for one")
        return np.fromiter((self.score(t) for t in texts), dtype=np.float64, count=len(texts))

    def save(self, path: str | Path) -> None:
        joblib.dump(self.artifact, Path(path), compress=3)

    @classmethod
    def load(cls, path: str | Path) -> PromptRouter:
        """Load a saved router; the file is trusted code (joblib), so load only your own."""
        artifact = joblib.load(Path(path))
        if not isinstance(artifact, PromptRouterArtifact):
            raise TypeError(f"{path} does not hold a prompt router (found {type(artifact).__name__})")
        return cls(artifact)

    def describe(self) -> dict[str, Any]:
        """Features used, training size and out-of-fold metrics, for reports and logs."""
        featurizer = self._featurizer
        columns = {view.name: view.width for view in featurizer.views}
        if self.settings.shape:
            columns["shape"] = featurizer.n_features - featurizer.shape_offset
        names = featurizer.column_names()
        order = np.argsort(self._coef, kind="stable")
        return {
            "format": self.artifact.format,
            "features": self.settings.feature_families(),
            "columns": columns,
            "training": dict(self.artifact.training),
            "settings": self.settings.to_dict(),
            "strongest_features": {
                "needs_strong": [names[i] for i in order[:STRONGEST_FEATURES]],
                "cheap_is_enough": [names[i] for i in order[::-1][:STRONGEST_FEATURES]],
            },
        }
