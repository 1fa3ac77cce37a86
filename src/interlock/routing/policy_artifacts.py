"""Loading what a routing policy references: its task classifier and its per-prompt routers.

Each artifact is checked against the SHA-256 the policy recorded before it is loaded (joblib files
are trusted code: only files the policy names, with the recorded hash, are opened).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from interlock.routing.features import Classifier
from interlock.routing.policy_file import LoadedPolicy
from interlock.routing.policy_route import PromptScorer


@dataclass(frozen=True)
class PolicyArtifacts:
    classifier: Classifier | None = None  # None: the shipped classifier's generic categories
    scorers: dict[str, PromptScorer] = field(default_factory=dict)  # by the policy's artifact path


def policy_artifacts(loaded: LoadedPolicy | None) -> PolicyArtifacts:
    if loaded is None:
        return PolicyArtifacts()
    from interlock.routing.classifier.model import RequestClassifier

    classifier = None
    ref = loaded.policy.classifier
    if ref is not None:
        classifier = RequestClassifier.load(loaded.artifact(ref.path, ref.sha256))
    scorers: dict[str, PromptScorer] = {}
    for task in loaded.policy.tasks.values():
        rule = task.prompt_router
        if rule is not None and rule.path not in scorers:
            from interlock.routing.prompt_router import PromptRouter

            scorers[rule.path] = PromptRouter.load(loaded.artifact(rule.path, rule.sha256))
    return PolicyArtifacts(classifier, scorers)
