"""The request classifier: task category, difficulty and an explanation for every routed request.

Load once at start with ``RequestClassifier.load()``; ``classify(messages)`` returns a
``Classification`` and raises ``InvalidRequest`` on malformed or empty input.
"""

from interlock.routing.classifier.categories import Category, category_names, load_categories
from interlock.routing.classifier.features import PromptText, prompt_text
from interlock.routing.classifier.model import (
    DEFAULT_ARTIFACT,
    Classification,
    FeatureWeight,
    RequestClassifier,
)

__all__ = [
    "DEFAULT_ARTIFACT",
    "Category",
    "Classification",
    "FeatureWeight",
    "PromptText",
    "RequestClassifier",
    "category_names",
    "load_categories",
    "prompt_text",
]
