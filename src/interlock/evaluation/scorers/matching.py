"""String and number matching scorers: exact, normalized, contains, regex and number.

``expected`` may list several acceptable answers; the best match counts.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from interlock.evaluation.scorers.base import NoOptions, Score, ScoringContext, register_scorer

if TYPE_CHECKING:
    from interlock.evaluation.suite import SuiteItem

Answers = str | list[str]


def normalize_text(text: str) -> str:
    """Casefold, drop punctuation and symbols, collapse whitespace (NFKC first)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    kept = "".join(" " if unicodedata.category(ch)[0] in "PS" else ch for ch in folded)
    return " ".join(kept.split())


def as_list(expected: Answers) -> list[str]:
    return [expected] if isinstance(expected, str) else list(expected)


def _shown(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


@register_scorer("exact", expected=Answers)
class ExactScorer:
    """Output equals an expected answer after stripping surrounding whitespace."""

    def __init__(self, options: NoOptions, context: ScoringContext) -> None:
        pass

    def score(self, item: SuiteItem, output: str) -> Score:
        got = output.strip()
        if any(got == answer.strip() for answer in as_list(item.expected)):
            return Score(1.0, "exact match")
        return Score(0.0, f"got {_shown(got)}")


@register_scorer("normalized", expected=Answers)
class NormalizedScorer:
    """Output equals an expected answer ignoring case, whitespace and punctuation."""

    def __init__(self, options: NoOptions, context: ScoringContext) -> None:
        pass

    def score(self, item: SuiteItem, output: str) -> Score:
        got = normalize_text(output)
        if any(got == normalize_text(answer) for answer in as_list(item.expected)):
            return Score(1.0, "normalized match")
        return Score(0.0, f"got {_shown(got)}")


class ContainsOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Literal["any", "all"] = "any"
    case_sensitive: bool = False


@register_scorer("contains", options=ContainsOptions, expected=Answers)
class ContainsScorer:
    """``any``: 1 if some expected string occurs in the output; ``all``: the fraction that occur."""

    def __init__(self, options: ContainsOptions, context: ScoringContext) -> None:
        self.options = options

    def _fold(self, text: str) -> str:
        text = " ".join(text.split())
        return text if self.options.case_sensitive else text.casefold()

    def score(self, item: SuiteItem, output: str) -> Score:
        haystack = self._fold(output)
        needles = as_list(item.expected)
        missing = [n for n in needles if self._fold(n) not in haystack]
        found = len(needles) - len(missing)
        if self.options.mode == "any":
            return Score(1.0 if found else 0.0, "found" if found else f"none of {len(needles)} found")
        detail = f"{found}/{len(needles)} found" + (f"; missing {_shown(missing[0], 30)}" if missing else "")
        return Score(found / len(needles), detail)


def _compilable(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None
    return pattern


Pattern = Annotated[str, AfterValidator(_compilable)]
_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}


class RegexOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pattern: Pattern | None = None
    flags: str = Field(default="", pattern=r"^[imsx]*$")
    fullmatch: bool = False


@register_scorer("regex", options=RegexOptions, expected=Pattern | list[Pattern], expected_required=False)
class RegexScorer:
    """1 if the output matches ``pattern`` (or, without one, any pattern given as ``expected``)."""

    def __init__(self, options: RegexOptions, context: ScoringContext) -> None:
        self.options = options
        self.flags = 0
        for letter in options.flags:
            self.flags |= _FLAGS[letter]

    def score(self, item: SuiteItem, output: str) -> Score:
        patterns = [self.options.pattern] if self.options.pattern else as_list(item.expected or [])
        if not patterns:
            return Score(0.0, "no pattern: set scorer_options.pattern or expected")
        text = output.strip()
        for pattern in patterns:
            compiled = re.compile(pattern, self.flags)
            if (compiled.fullmatch if self.options.fullmatch else compiled.search)(text):
                return Score(1.0, f"matched /{pattern}/")
        return Score(0.0, f"no match in {_shown(text)}")


_NUMBER = re.compile(r"(?<![\w.])-?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\d)|(?<![\w.])-?\d+(?:\.\d+)?")


def extract_numbers(text: str) -> list[float]:
    return [float(m.group().replace(",", "")) for m in _NUMBER.finditer(text)]


class NumberOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    position: Literal["last", "first", "any"] = "last"
    tolerance: float = Field(default=1e-6, ge=0)
    relative_tolerance: float = Field(default=0.0, ge=0)


@register_scorer("number", options=NumberOptions, expected=float | list[float])
class NumberScorer:
    """The final (or first, or any) number in the output equals the expected number within tolerance."""

    def __init__(self, options: NumberOptions, context: ScoringContext) -> None:
        self.options = options

    def _close(self, got: float, want: float) -> bool:
        allowed = max(self.options.tolerance, self.options.relative_tolerance * abs(want))
        return abs(got - want) <= allowed

    def score(self, item: SuiteItem, output: str) -> Score:
        numbers = extract_numbers(output)
        if not numbers:
            return Score(0.0, "no number in the output")
        candidates = {"last": numbers[-1:], "first": numbers[:1], "any": numbers}[self.options.position]
        wants = item.expected if isinstance(item.expected, list) else [item.expected]
        if any(self._close(got, want) for got in candidates for want in wants):
            return Score(1.0, f"{self.options.position} number matches")
        return Score(0.0, f"{self.options.position} number {candidates[-1]:g}, expected {wants[0]:g}")
