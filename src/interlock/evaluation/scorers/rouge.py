"""ROUGE-L: F-measure of the longest common subsequence of tokens against reference summaries.

Tokenisation follows the reference ``rouge-score`` implementation without stemming: lowercase,
every run of characters other than ``a-z0-9`` is a separator.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

from interlock.evaluation.scorers.base import Score, ScoringContext, register_scorer
from interlock.evaluation.scorers.matching import Answers, as_list

if TYPE_CHECKING:
    from interlock.evaluation.suite import SuiteItem

_SEPARATORS = re.compile(r"[^a-z0-9]+")


def tokenize(text: str) -> list[str]:
    return [t for t in _SEPARATORS.split(text.lower()) if t]


def lcs_length(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence, in O(len(a) * len(b)) time and O(len(b)) space."""
    if len(a) < len(b):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for token in a:
        current = [0]
        for j, other in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if token == other else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def rouge_l(candidate: str, reference: str) -> tuple[float, float, float]:
    """(precision, recall, F1) of ROUGE-L between two texts."""
    cand, ref = tokenize(candidate), tokenize(reference)
    if not cand or not ref:
        return 0.0, 0.0, 0.0
    lcs = lcs_length(cand, ref)
    precision, recall = lcs / len(cand), lcs / len(ref)
    f1 = 2 * precision * recall / (precision + recall) if lcs else 0.0
    return precision, recall, f1


class RougeOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    metric: Literal["f1", "precision", "recall"] = "f1"


@register_scorer("rouge_l", options=RougeOptions, expected=Answers)
class RougeLScorer:
    """ROUGE-L against the reference (the best one when ``expected`` lists several)."""

    def __init__(self, options: RougeOptions, context: ScoringContext) -> None:
        self.index = {"precision": 0, "recall": 1, "f1": 2}[options.metric]
        self.metric = options.metric

    def score(self, item: SuiteItem, output: str) -> Score:
        best = max((rouge_l(output, ref) for ref in as_list(item.expected)), key=lambda prf: prf[self.index])
        p, r, f = best
        return Score(round(best[self.index], 6), f"ROUGE-L P={p:.2f} R={r:.2f} F1={f:.2f}")
