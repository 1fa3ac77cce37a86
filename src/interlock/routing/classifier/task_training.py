"""Training a task classifier on a customer's own suite labels, so the gateway routes by those tasks.

The same featurisation as the shipped classifier (``PromptVectorizer``) with a logistic-regression
head over the suite's labels; there is no difficulty head (``difficulty`` is then None). Accuracy
is measured on a stratified held-out share before the final fit on every prompt.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from interlock.routing.classifier.model import ClassifierArtifact, RequestClassifier
from interlock.routing.classifier.vectorizer import PromptVectorizer

SEED = 0


@dataclass(frozen=True, slots=True)
class TaskClassifierReport:
    labels: tuple[str, ...]
    n_train: int
    n_heldout: int
    heldout_accuracy: float


def _fit(texts: Sequence[str], labels: Sequence[str], classes: tuple[str, ...], c: float) -> ClassifierArtifact:
    vectorizer = PromptVectorizer().fit(texts)
    x = vectorizer.transform(texts)
    y = np.array([classes.index(label) for label in labels])
    if len(classes) == 1:  # one task: nothing to learn, every prompt is that task
        coef, intercept = np.zeros((1, x.shape[1])), np.zeros(1)
    else:
        head = LogisticRegression(C=c, max_iter=3000, random_state=SEED).fit(x, y)
        coef, intercept = head.coef_, head.intercept_
        if len(classes) == 2:  # sklearn's binary head scores class 1 only; make it a two-row softmax
            coef, intercept = np.vstack([-coef / 2, coef / 2]), np.array([-intercept[0] / 2, intercept[0] / 2])
    return ClassifierArtifact(
        version="suite-tasks", categories=classes, vectorizer=vectorizer, coef=coef.astype(np.float32),
        intercept=intercept.astype(np.float32), score_scale=1.0,
        difficulty_coef=np.zeros(x.shape[1], dtype=np.float32), difficulty_intercept=0.0,
        metadata={"difficulty": False, "n_train": len(texts), "sklearn": sklearn.__version__, "C": c},
    )


def fit_task_classifier(texts: Sequence[str], labels: Sequence[str], heldout: float = 0.2,
                        c: float = 4.0) -> tuple[ClassifierArtifact, TaskClassifierReport]:
    """Held-out accuracy first (stratified split), then the artifact fitted on every prompt."""
    if len(texts) != len(labels) or not texts:
        raise ValueError("need one label per prompt, and at least one prompt")
    classes = tuple(sorted(set(labels)))
    counts = Counter(labels)
    accuracy, n_heldout = 1.0, 0
    if len(classes) > 1 and min(counts.values()) >= 2 and len(texts) * heldout >= len(classes):
        train_x, test_x, train_y, test_y = train_test_split(
            list(texts), list(labels), test_size=heldout, stratify=list(labels), random_state=SEED)
        model = RequestClassifier(_fit(train_x, train_y, classes, c))
        hits = sum(model.classify_text(t).category == y for t, y in zip(test_x, test_y))
        accuracy, n_heldout = hits / len(test_y), len(test_y)
    artifact = _fit(texts, labels, classes, c)
    return artifact, TaskClassifierReport(classes, len(texts), n_heldout, round(accuracy, 4))
