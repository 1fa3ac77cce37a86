"""The request classifier shipped with interlock, loaded on first use (or at start)."""

from __future__ import annotations

from typing import Any

from interlock.routing.features import Classification, Classifier


class ShippedClassifier:
    """Loads the packaged model lazily: a gateway whose policy brings its own classifier never pays for it."""

    def __init__(self) -> None:
        self._model: Classifier | None = None

    def load(self) -> Classifier:
        if self._model is None:
            from interlock.routing.classifier.model import RequestClassifier

            self._model = RequestClassifier.load()
        return self._model

    def classify(self, messages: list[dict[str, Any]]) -> Classification:
        return self.load().classify(messages)
