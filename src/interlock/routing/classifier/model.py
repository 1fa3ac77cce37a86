"""The request classifier: loads the shipped artifact and classifies a request's messages.

The artifact holds a fitted ``PromptVectorizer`` and plain weight arrays for two linear
heads: a softmax over the task categories and a ridge regression for difficulty. Scoring is
a dot product over the prompt's non-zero features, so a request costs well under a
millisecond once its text is extracted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from interlock.routing.classifier.categories import DATA_DIR
from interlock.routing.classifier.features import prompt_text
from interlock.routing.classifier.vectorizer import PromptVectorizer, SparseRow

ARTIFACT_FORMAT = 1
DEFAULT_ARTIFACT = DATA_DIR / "model-v1.joblib"
TOP_FEATURES = 6


@dataclass(slots=True)
class ClassifierArtifact:
    """What training writes and ``RequestClassifier.load`` reads."""

    version: str
    categories: tuple[str, ...]
    vectorizer: PromptVectorizer
    coef: np.ndarray  # (n_categories, n_features)
    intercept: np.ndarray  # (n_categories,)
    score_scale: float  # softmax temperature: 1.0 for logistic regression, fitted for an SVM
    difficulty_coef: np.ndarray  # (n_features,)
    difficulty_intercept: float
    metadata: dict[str, Any] = field(default_factory=dict)
    format: int = ARTIFACT_FORMAT

    def save(self, path: Path) -> None:
        joblib.dump(self, path, compress=("xz", 6))


@dataclass(frozen=True, slots=True)
class FeatureWeight:
    """One feature's contribution to the chosen category's score (``view:term``)."""

    feature: str
    weight: float


@dataclass(frozen=True, slots=True)
class Classification:
    category: str
    probabilities: dict[str, float]
    difficulty: float | None  # None for a task classifier trained without a difficulty head
    top_features: tuple[FeatureWeight, ...]
    model_version: str

    @property
    def confidence(self) -> float:
        return self.probabilities[self.category]

    def explanation(self) -> str:
        """A short reason for decision headers and dry runs."""
        terms = ", ".join(
            dict.fromkeys(f.feature.split(":", 1)[1] for f in self.top_features)
        )  # a term can fire in two views
        difficulty = "" if self.difficulty is None else f" difficulty={self.difficulty:.2f}"
        return f"{self.category} p={self.confidence:.2f}{difficulty} ({terms})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "confidence": round(self.confidence, 4),
            "probabilities": {k: round(v, 4) for k, v in self.probabilities.items()},
            "difficulty": None if self.difficulty is None else round(self.difficulty, 4),
            "top_features": [{"feature": f.feature, "weight": round(f.weight, 4)} for f in self.top_features],
            "model_version": self.model_version,
        }


class RequestClassifier:
    """Predicts a request's task category and difficulty from its messages."""

    def __init__(self, artifact: ClassifierArtifact, *, digest: str = "") -> None:
        if artifact.format != ARTIFACT_FORMAT:
            raise ValueError(
                f"classifier artifact format {artifact.format} is not supported (expected {ARTIFACT_FORMAT})"
            )
        self.artifact = artifact
        self.categories = artifact.categories
        self.digest = digest
        # One (n_features, n_categories + 1) matrix: the category scores and, last, difficulty.
        self._weights = np.ascontiguousarray(
            np.column_stack([artifact.coef.T, artifact.difficulty_coef]), dtype=np.float64
        )
        self._bias = np.append(artifact.intercept, artifact.difficulty_intercept).astype(np.float64)
        self._names = artifact.vectorizer.feature_names()
        self._has_difficulty = bool(artifact.metadata.get("difficulty", True))

    @classmethod
    def load(cls, path: str | Path | None = None) -> RequestClassifier:
        """Load an artifact (the shipped ``model-v1.joblib`` by default); the artifact is trusted code."""
        path = Path(path) if path is not None else DEFAULT_ARTIFACT
        data = path.read_bytes()
        artifact = joblib.load(path)
        if not isinstance(artifact, ClassifierArtifact):
            raise TypeError(f"{path} does not hold a classifier artifact")
        return cls(artifact, digest=hashlib.sha256(data).hexdigest()[:16])

    @property
    def version(self) -> str:
        """Artifact version and content hash, for decision records."""
        return f"{self.artifact.version}+{self.digest}" if self.digest else self.artifact.version

    def classify(self, messages: Any) -> Classification:
        """Classify an OpenAI-style ``messages`` list; malformed or empty input raises ``InvalidRequest``."""
        return self.classify_text(prompt_text(messages).combined())

    def classify_text(self, text: str) -> Classification:
        row = self.artifact.vectorizer.transform_one(text)
        return self._score(row)

    def _score(self, row: SparseRow) -> Classification:
        weights = self._weights[row.indices]  # (nnz, n_categories + 1)
        outputs = row.values @ weights + self._bias
        probs = _softmax(outputs[:-1] * self.artifact.score_scale)
        best = int(np.argmax(probs))
        contributions = weights[:, best] * row.values
        order = np.argsort(-contributions, kind="stable")[:TOP_FEATURES]
        top = tuple(
            FeatureWeight(self._names[row.indices[i]], float(contributions[i]))
            for i in order
            if contributions[i] > 0
        )
        return Classification(
            category=self.categories[best],
            probabilities=dict(zip(self.categories, probs.tolist())),
            difficulty=min(1.0, max(0.0, float(outputs[-1]))) if self._has_difficulty else None,
            top_features=top,
            model_version=self.version,
        )


def _softmax(scores: np.ndarray) -> np.ndarray:
    shifted: np.ndarray = np.exp(scores - scores.max())
    probs: np.ndarray = shifted / shifted.sum()
    return probs
