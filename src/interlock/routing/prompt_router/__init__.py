"""A router learned from outcomes: per prompt, the chance that the cheap model is good enough.

Train with ``PromptRouter.fit(texts, labels, settings)``, serve with ``score(text)`` (numpy and
joblib only), and pick thresholds on ``out_of_fold_scores`` (held-out folds).
"""

from interlock.routing.prompt_router.cross_validation import out_of_fold_metrics, out_of_fold_scores
from interlock.routing.prompt_router.model import ARTIFACT_FORMAT, PromptRouter, PromptRouterArtifact
from interlock.routing.prompt_router.settings import PromptRouterSettings

__all__ = [
    "ARTIFACT_FORMAT",
    "PromptRouter",
    "PromptRouterArtifact",
    "PromptRouterSettings",
    "out_of_fold_metrics",
    "out_of_fold_scores",
]
