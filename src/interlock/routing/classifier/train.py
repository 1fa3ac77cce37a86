"""Reproducible training of the request classifier artifact and its training metrics.

    python -m interlock.routing.classifier.train [--data FILE] [--out FILE] [--metrics FILE]

writes ``data/classifier/model-v1.joblib`` and ``data/classifier/model-v1.metrics.json``.
Everything is seeded; the same data gives the same artifact weights.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import sklearn
from scipy.stats import spearmanr
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.svm import LinearSVC

from interlock.routing.classifier.categories import DATA_DIR, category_names
from interlock.routing.classifier.dataset import TRAIN_FILE, LabeledPrompt, file_sha256, load_prompts
from interlock.routing.classifier.evaluate import score_predictions
from interlock.routing.classifier.model import ClassifierArtifact, RequestClassifier
from interlock.routing.classifier.vectorizer import PromptVectorizer, VectorizerSettings

ARTIFACT_VERSION = "model-v1"
SEED = 0


@dataclass(frozen=True, slots=True)
class TrainSettings:
    """The chosen recipe (see docs/classifier.md); ``compare`` tries variations of it.

    ``svm`` is a linear SVM whose margins are turned into probabilities by one softmax
    temperature fitted on out-of-fold margins; ``logreg`` is multinomial logistic regression.
    """

    vectorizer: VectorizerSettings = field(default_factory=VectorizerSettings)
    head: Literal["logreg", "svm"] = "svm"
    c: float = 0.5
    difficulty_alpha: float = 0.5
    seed: int = SEED


def fit_artifact(
    prompts: Sequence[LabeledPrompt], settings: TrainSettings, version: str = ARTIFACT_VERSION
) -> ClassifierArtifact:
    categories = category_names()
    texts = [p.text for p in prompts]
    y = np.array([categories.index(p.category) for p in prompts])
    vectorizer = PromptVectorizer(settings.vectorizer).fit(texts)
    x = vectorizer.transform(texts)
    coef, intercept, scale = _fit_head(x, y, len(categories), settings)
    ridge = Ridge(alpha=settings.difficulty_alpha, random_state=settings.seed).fit(
        x, [p.difficulty for p in prompts]
    )
    return ClassifierArtifact(
        version=version,
        categories=categories,
        vectorizer=vectorizer,
        coef=coef.astype(np.float32),
        intercept=intercept.astype(np.float32),
        score_scale=scale,
        difficulty_coef=ridge.coef_.astype(np.float32),
        difficulty_intercept=float(ridge.intercept_),
        metadata={
            "settings": _jsonable(asdict(settings)),
            "n_train": len(prompts),
            "sklearn": sklearn.__version__,
        },
    )


def _fit_head(
    x: object, y: np.ndarray, n_classes: int, settings: TrainSettings
) -> tuple[np.ndarray, np.ndarray, float]:
    if settings.head == "logreg":
        model = LogisticRegression(C=settings.c, max_iter=5000, random_state=settings.seed).fit(x, y)
        return model.coef_, model.intercept_, 1.0
    svm = LinearSVC(C=settings.c, random_state=settings.seed)
    folds = StratifiedKFold(5, shuffle=True, random_state=settings.seed)
    scores = cross_val_predict(svm, x, y, cv=folds, method="decision_function")
    svm.fit(x, y)
    return svm.coef_, svm.intercept_, _fit_temperature(scores, y)


def _fit_temperature(scores: np.ndarray, y: np.ndarray) -> float:
    """The softmax scale that minimises out-of-fold log loss (calibrates SVM margins)."""
    best, best_loss = 1.0, float("inf")
    for scale in np.geomspace(0.25, 32.0, 50):
        z = scores * scale
        z = z - z.max(axis=1, keepdims=True)
        log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        loss = -float(log_probs[np.arange(len(y)), y].mean())
        if loss < best_loss:
            best, best_loss = float(scale), loss
    return best


def cross_validate(
    prompts: Sequence[LabeledPrompt], settings: TrainSettings, folds: int = 5
) -> dict[str, Any]:
    """Out-of-fold predictions on the training set (each fold refits the vectorizer)."""
    categories = category_names()
    y = [p.category for p in prompts]
    predicted: list[str] = [""] * len(prompts)
    difficulty = np.zeros(len(prompts))
    baseline = np.zeros(len(prompts))  # mean difficulty of the predicted category in the training fold
    splitter = StratifiedKFold(folds, shuffle=True, random_state=settings.seed)
    for train_idx, test_idx in splitter.split(np.zeros(len(y)), y):
        fold = [prompts[i] for i in train_idx]
        model = RequestClassifier(fit_artifact(fold, settings))
        means = {c: float(np.mean([p.difficulty for p in fold if p.category == c])) for c in categories}
        for i in test_idx:
            result = model.classify_text(prompts[i].text)
            predicted[i], difficulty[i], baseline[i] = (
                result.category,
                result.difficulty,
                means[result.category],
            )
    report = score_predictions(y, predicted, categories)
    truth = np.array([p.difficulty for p in prompts])
    report["difficulty_mae"] = float(np.abs(difficulty - truth).mean())
    report["difficulty_spearman"] = _spearman(difficulty, truth)
    report["difficulty_mae_category_mean"] = float(np.abs(baseline - truth).mean())
    report["difficulty_spearman_category_mean"] = _spearman(baseline, truth)
    return report


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    return float(spearmanr(a, b).statistic)


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=TRAIN_FILE)
    parser.add_argument("--out", type=Path, default=DATA_DIR / f"{ARTIFACT_VERSION}.joblib")
    parser.add_argument("--metrics", type=Path, default=DATA_DIR / f"{ARTIFACT_VERSION}.metrics.json")
    parser.add_argument("--skip-cv", action="store_true", help="only fit and write the artifact")
    args = parser.parse_args(argv)

    prompts = load_prompts(args.data)
    settings = TrainSettings()
    metrics: dict[str, object] = {
        "version": ARTIFACT_VERSION,
        "train_file_sha256": file_sha256(args.data),
        "n_train": len(prompts),
    }
    if not args.skip_cv:
        metrics["cross_validation"] = cross_validate(prompts, settings)
    artifact = fit_artifact(prompts, settings)
    artifact.metadata["train_file_sha256"] = metrics["train_file_sha256"]
    artifact.save(args.out)
    metrics.update(
        settings=artifact.metadata["settings"],
        n_features=artifact.vectorizer.n_features,
        artifact_bytes=args.out.stat().st_size,
    )
    args.metrics.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({metrics['artifact_bytes']} bytes) and {args.metrics}")
    cv = metrics.get("cross_validation")
    if isinstance(cv, dict):
        print(f"5-fold cross-validated macro-F1 on the training set: {cv['macro_f1']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
