"""The two shapes most recognizers take: a validated regex, and a composite of several.

A ``PatternDetector`` runs one compiled regex, skips texts lacking its cheap needles, and lets a
validator reject or narrow each candidate (checksums, issuing rules, surrounding words).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass
from functools import lru_cache

from interlock.compliance.detection import DataClass, Detection, Detector

# A validator gets the match and the whole text; it returns the span to report or None to reject.
Validator = Callable[[re.Match[str], str], tuple[int, int] | None]


def value_span(match: re.Match[str], text: str) -> tuple[int, int] | None:
    """Report the ``value`` group when the pattern has one, else the whole match."""
    return match.span("value") if "value" in match.re.groupindex else match.span()


@dataclass(frozen=True, slots=True)
class PatternDetector:
    """One regex plus a validator, optionally confined to the neighbourhood of cheap needles.

    ``needles`` are substrings (matched in the lower-cased text unless ``case_sensitive_needles``)
    one of which must occur for the regex to run at all. With ``anchored`` the pattern is tried
    only where a needle starts (it must begin with one); with ``window=(before, after)`` it runs
    only that many characters around each needle (for phrases whose keyword is in the middle).
    Either keeps keyword-led patterns from paying for a full scan of a long prompt.
    """

    name: str
    kind: str
    data_class: DataClass
    pattern: re.Pattern[str]
    validate: Validator = value_span
    _: KW_ONLY
    needles: tuple[str, ...] = ()
    case_sensitive_needles: bool = False
    window: tuple[int, int] | None = None
    anchored: bool = False  # the pattern starts with a needle: try it only where a needle starts

    def detect(self, text: str) -> list[Detection]:
        if self.anchored:
            return self._detect_at_needles(text)
        spans = [(0, len(text))]
        if self.needles:
            haystack = text if self.case_sensitive_needles else lower_same_length(text)
            if self.window is not None:
                spans = needle_windows(haystack, self.needles, *self.window)
            elif not any(n in haystack for n in self.needles):
                return []
        out: list[Detection] = []
        for low, high in spans:
            for match in self.pattern.finditer(text, low, high):
                span = self.validate(match, text)
                if span is not None and span[1] > span[0]:
                    out.append(Detection(self.kind, self.data_class, span[0], span[1]))
        return out

    def _detect_at_needles(self, text: str) -> list[Detection]:
        haystack = text if self.case_sensitive_needles else lower_same_length(text)
        out: list[Detection] = []
        reached = -1
        for position in needle_positions(haystack, self.needles):
            if position < reached:
                continue
            match = self.pattern.match(text, position)
            if match is None:
                continue
            span = self.validate(match, text)
            if span is not None and span[1] > span[0]:
                out.append(Detection(self.kind, self.data_class, span[0], span[1]))
                reached = match.end()
        return out


@lru_cache(maxsize=8)
def lower_same_length(text: str) -> str:
    """``text.lower()``, keeping every index valid (a few characters lower-case to two).

    Cached because every detector asks for the same text in turn; a str caches its own hash.
    """
    lower = text.lower()
    if len(lower) == len(text):
        return lower
    return "".join(ch if len(ch.lower()) != 1 else ch.lower() for ch in text)


def needle_positions(haystack: str, needles: Sequence[str]) -> list[int]:
    """Sorted start positions of every occurrence of every needle."""
    positions: set[int] = set()
    for needle in needles:
        i = haystack.find(needle)
        while i != -1:
            positions.add(i)
            i = haystack.find(needle, i + 1)
    return sorted(positions)


def needle_windows(haystack: str, needles: Sequence[str], before: int, after: int) -> list[tuple[int, int]]:
    """Merged ``(start, end)`` windows around every occurrence of every needle."""
    spans: list[tuple[int, int]] = []
    size = len(haystack)
    for needle in needles:
        i = haystack.find(needle)
        while i != -1:
            spans.append((max(0, i - before), min(size, i + len(needle) + after)))
            i = haystack.find(needle, i + 1)
    if len(spans) < 2:
        return spans
    spans.sort()
    merged = [spans[0]]
    for low, high in spans[1:]:
        if low <= merged[-1][1]:
            if high > merged[-1][1]:
                merged[-1] = (merged[-1][0], high)
        else:
            merged.append((low, high))
    return merged


@dataclass(frozen=True, slots=True)
class AnyOfDetector:
    """Several detectors reported under one registry name (one kind, several written forms)."""

    name: str
    parts: Sequence[Detector]

    def detect(self, text: str) -> list[Detection]:
        out: list[Detection] = []
        for part in self.parts:
            out.extend(part.detect(text))
        return out


def is_word_char(text: str, index: int) -> bool:
    """True when ``text[index]`` exists and is a letter, digit or underscore."""
    return 0 <= index < len(text) and (text[index].isalnum() or text[index] == "_")


def preceded_by(text: str, start: int, pattern: re.Pattern[str], window: int = 40) -> bool:
    """Whether the ``window`` characters before ``start`` end with ``pattern`` (use ``$``)."""
    return pattern.search(text, max(0, start - window), start) is not None
