"""Classification accuracy: find which allowed label a (possibly verbose) answer gives.

Reading order, first hit wins: an answer that starts with a label; a label after a marker such as
``Label:``/``Answer:``/``Category:``; the only label mentioned; the first label mentioned.
Longer labels are matched before shorter ones they contain ("very positive" before "positive").
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from interlock.evaluation.scorers.base import Score, ScoringContext, register_scorer
from interlock.evaluation.scorers.matching import normalize_text

if TYPE_CHECKING:
    from interlock.evaluation.suite import SuiteItem

_MARKERS = r"(?:label|answer|category|class|classification|sentiment|intent|topic|priority|result)"


class LabelOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    labels: list[str] = Field(default_factory=list, description="allowed labels; the expected one is added")


def find_label(output: str, labels: list[str]) -> str | None:
    """The label the answer gives, or None; matching ignores case and punctuation."""
    text = normalize_text(output)
    by_norm = {normalize_text(label): label for label in labels if normalize_text(label)}
    ordered = sorted(by_norm, key=len, reverse=True)
    if not ordered or not text:
        return None
    for norm in ordered:
        if text == norm or text.startswith(norm + " "):
            return by_norm[norm]
    alternation = "|".join(re.escape(norm) for norm in ordered)
    marker = re.search(rf"\b{_MARKERS}\b(?: is)? ({alternation})\b", text)
    if marker:
        return by_norm[marker.group(1)]
    mentions = [m.group(1) for m in re.finditer(rf"\b({alternation})\b", text)]
    if not mentions:
        return None
    return by_norm[mentions[0]]


@register_scorer("label", options=LabelOptions, expected=str)
class LabelScorer:
    """1 if the label found in the output is the expected label, else 0."""

    def __init__(self, options: LabelOptions, context: ScoringContext) -> None:
        self.options = options

    def score(self, item: SuiteItem, output: str) -> Score:
        labels = list(dict.fromkeys([*self.options.labels, item.expected]))
        found = find_label(output, labels)
        if found is None:
            return Score(0.0, "no label found")
        if normalize_text(found) == normalize_text(item.expected):
            return Score(1.0, f"label {found!r}")
        return Score(0.0, f"label {found!r}, expected {item.expected!r}")
