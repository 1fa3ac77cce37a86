"""Request features for routing: task category and difficulty (the trained classifier), prompt tokens, needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from interlock.catalog.capabilities import request_needs
from interlock.routing.tokens import count_messages
from interlock.wire.openai_chat import ChatCompletionRequest


class Classification(Protocol):
    category: str
    probabilities: dict[str, float]
    difficulty: float | None


class Classifier(Protocol):
    def classify(self, messages: list[dict[str, Any]]) -> Classification: ...


@dataclass(frozen=True, slots=True)
class Features:
    category: str
    confidence: float
    difficulty: float | None  # None when the classifier has no difficulty head (a suite's task classifier)
    prompt_tokens: int
    output_tokens: int
    needs: tuple[str, ...] = ()
    top_categories: tuple[tuple[str, float], ...] = field(default=())
    evidence: tuple[str, ...] = ()  # the classifier's strongest features for the category (explanations)

    def to_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "confidence": round(self.confidence, 3),
            "difficulty": None if self.difficulty is None else round(self.difficulty, 3),
            "prompt_tokens": self.prompt_tokens,
            "output_tokens": self.output_tokens,
            "needs": list(self.needs),
            "top_categories": [[c, round(p, 3)] for c, p in self.top_categories],
            "evidence": list(self.evidence),
        }


def request_messages(req: ChatCompletionRequest) -> list[dict[str, Any]]:
    """The request's messages as plain dicts, as the classifiers read them."""
    return [m.model_dump(exclude_none=True) for m in req.messages]


def extract_features(req: ChatCompletionRequest, classifier: Classifier, default_output_tokens: int,
                     messages: list[dict[str, Any]] | None = None) -> Features:
    """``messages``: ``request_messages(req)`` when the caller already has them (they are not dumped twice)."""
    messages = messages if messages is not None else request_messages(req)
    result = classifier.classify(messages)
    top = sorted(result.probabilities.items(), key=lambda kv: kv[1], reverse=True)[:3]
    return Features(
        category=result.category,
        confidence=float(result.probabilities.get(result.category, 0.0)),
        difficulty=None if result.difficulty is None else float(result.difficulty),
        prompt_tokens=count_messages(req.messages),
        output_tokens=req.output_limit or default_output_tokens,
        needs=request_needs(req),
        top_categories=tuple(top),
        evidence=tuple(str(getattr(f, "feature", f)) for f in getattr(result, "top_features", ())[:5]),
    )
