"""Field-level precision, recall and F1 of a JSON object in the output against an expected object.

Nested objects are flattened to dotted paths (``address.city``); a field counts as correct when
its value matches after light normalisation (case and surrounding whitespace of strings,
numbers numerically, lists as unordered multisets). Expected ``null`` fields should be absent.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from interlock.evaluation.scorers.base import Score, ScoringContext, register_scorer

if TYPE_CHECKING:
    from interlock.evaluation.suite import SuiteItem

_FENCE = re.compile(r"```[ \t]*(?:json[c5]?)?[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL | re.IGNORECASE)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_NUMERIC = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return json.loads(_TRAILING_COMMA.sub(r"\1", text))
    except ValueError:
        return None


def _balanced_object(text: str, start: int) -> str | None:
    """The ``{...}`` starting at ``start``, respecting strings; None if it never closes."""
    depth, in_string, escaped = 0, False, False
    for pos in range(start, len(text)):
        ch = text[pos]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[start : pos + 1]
    return None


def extract_json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in ``text``: whole text, a ```json fence, or the first balanced ``{}``."""
    candidates = [text.strip(), *(m.group(1).strip() for m in _FENCE.finditer(text))]
    for candidate in candidates:
        value = _loads(candidate)
        if isinstance(value, dict):
            return value
    for match in re.finditer(r"\{", text):
        block = _balanced_object(text, match.start())
        value = _loads(block) if block else None
        if isinstance(value, dict):
            return value
    return None


def flatten(value: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}, "c": None}`` -> ``{"a.b": 1}`` (nulls and empty objects dropped)."""
    out: dict[str, Any] = {}
    for key, inner in value.items():
        path = f"{prefix}{key}"
        if isinstance(inner, dict):
            out.update(flatten(inner, path + "."))
        elif inner is not None:
            out[path] = inner
    return out


def _canonical(value: Any, case_sensitive: bool) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return round(float(value), 6)
    if isinstance(value, str):
        text = " ".join(value.split())
        text = text if case_sensitive else text.casefold()
        if _NUMERIC.fullmatch(text):
            return round(float(text.replace(",", "")), 6)
        return text
    if isinstance(value, list):
        return sorted(json.dumps(_canonical(v, case_sensitive), sort_keys=True) for v in value)
    if isinstance(value, dict):
        return {k: _canonical(v, case_sensitive) for k, v in sorted(value.items())}
    return value


class JsonFieldsOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fields: list[str] | None = None
    metric: Literal["f1", "precision", "recall"] = "f1"
    case_sensitive: bool = False


@register_scorer("json_fields", options=JsonFieldsOptions, expected=dict[str, Any])
class JsonFieldsScorer:
    """Precision/recall/F1 over flattened fields; ``fields`` restricts scoring to some paths."""

    def __init__(self, options: JsonFieldsOptions, context: ScoringContext) -> None:
        self.options = options

    def _select(self, fields: dict[str, Any]) -> dict[str, Any]:
        if self.options.fields is None:
            return fields
        wanted = set(self.options.fields)
        return {k: v for k, v in fields.items() if k in wanted or k.split(".")[0] in wanted}

    def score(self, item: SuiteItem, output: str) -> Score:
        got = extract_json_object(output)
        if got is None:
            return Score(0.0, "no JSON object found")
        predicted = self._select(flatten(got))
        expected = self._select(flatten(item.expected))
        cs = self.options.case_sensitive
        correct = sum(
            1
            for k, v in expected.items()
            if k in predicted and _canonical(predicted[k], cs) == _canonical(v, cs)
        )
        precision = correct / len(predicted) if predicted else (1.0 if not expected else 0.0)
        recall = correct / len(expected) if expected else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        value = {"f1": f1, "precision": precision, "recall": recall}[self.options.metric]
        wrong = sorted(
            k
            for k in expected
            if k not in predicted or _canonical(predicted[k], cs) != _canonical(expected[k], cs)
        )
        detail = f"P={precision:.2f} R={recall:.2f} F1={f1:.2f}"
        return Score(value, detail + (f"; wrong/missing: {', '.join(wrong[:4])}" if wrong else ""))
