"""Folding text before detection: compatibility forms (NFKC), invisible characters removed, dashes unified.

An obfuscated value ("4111–1111–1111–1111", digits split by zero-width spaces, full-width or
Arabic-Indic digits, JSON ``\\uXXXX`` escapes inside tool arguments) reads as its plain form to
the recognizers. ``Folded.original_span`` maps a span of the folded text back to the original, so
redaction replaces every character of the value as it was written. ASCII text without escapes
(the common case) is returned as it is, at the cost of two checks.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass

# Hyphens, dashes and minus signs NFKC leaves alone, and the apostrophes typed by phones and word
# processors: all read as their ASCII forms.
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2e3a\u2e3b\ufe58\ufe63\uff0d"
_APOSTROPHES = "\u2018\u2019\u02bc\uff07"
# Invisible characters that are not format characters (Cf): variation selectors, the combining
# grapheme joiner, the Hangul fillers.
_INVISIBLE = frozenset("\u034f\u115f\u1160\u3164\uffa0") | frozenset(map(chr, range(0xFE00, 0xFE10)))
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_TABLE_LIMIT = 65_536  # distinct characters remembered; beyond this they are folded each time


def fold_char(ch: str) -> str:
    """The folded form of one character ('' for a format or invisible character)."""
    if ch in _DASHES:
        return "-"
    if ch in _APOSTROPHES:
        return "'"
    if ch in _INVISIBLE or 0xE0100 <= ord(ch) <= 0xE01EF:
        return ""
    category = unicodedata.category(ch)
    if category == "Cf":
        return ""
    if category == "Nd":
        return str(unicodedata.digit(ch))
    folded = unicodedata.normalize("NFKC", ch)
    if folded == ch:
        return ch
    return "".join(fold_char(c) if not c.isascii() else c for c in folded)


class _FoldTable(dict[int, str]):
    """``str.translate`` table that folds characters on first sight and remembers them."""

    def __missing__(self, code: int) -> str:
        folded = fold_char(chr(code))
        if len(self) < _TABLE_LIMIT:
            self[code] = folded
        return folded


class _ResizeProbe(dict[int, int | None]):
    """``str.translate`` table deleting the characters whose folded form is not one character long:
    a run that keeps its length through it folds one-for-one."""

    def __missing__(self, code: int) -> int | None:
        kept = code if len(_TABLE[code]) == 1 else None
        if len(self) < _TABLE_LIMIT:
            self[code] = kept
        return kept


_TABLE = _FoldTable()
_PROBE = _ResizeProbe()


@dataclass(frozen=True, slots=True)
class Folded:
    """A folded text and how its positions map back to the original.

    ``offsets`` is None when every character kept its position; otherwise it lists each place where
    the lengths differ as ``(folded position, original position, folded length, original length)``
    (a dropped format character: 0 for 1; a ligature: 2 for 1; a JSON escape: 1 for 6). Between
    those anchors the two texts advance together.
    """

    text: str
    offsets: tuple[tuple[int, int, int, int], ...] | None = None
    _starts: tuple[int, ...] = ()

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that ``text[start:end]`` was folded from."""
        if self.offsets is None:
            return start, end
        first = self._original_char(start)[0]
        return (first, first) if end <= start else (first, self._original_char(end - 1)[1])

    def _original_char(self, position: int) -> tuple[int, int]:
        assert self.offsets is not None
        index = bisect_right(self._starts, position) - 1
        if index < 0:
            return position, position + 1
        folded_at, original_at, folded_length, original_length = self.offsets[index]
        if position < folded_at + folded_length:  # inside what one original piece became
            return original_at, original_at + original_length
        original = original_at + original_length + (position - folded_at - folded_length)
        return original, original + 1


# A JSON escape (a surrogate pair as one) or one non-ASCII character: the pieces that may fold.
_PIECE = re.compile(
    r"\\u(?P<hex>[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|[0-9a-fA-F]{4})|[^\x00-\x7f]"
)
_ESCAPE = re.compile(r"\\u[0-9a-fA-F]{4}")


def normalise(text: str) -> Folded:
    """Fold ``text`` for detection (NFKC per character, format characters dropped, dashes unified,
    JSON escapes decoded)."""
    escaped = "\\u" in text and _ESCAPE.search(text) is not None
    if not escaped:
        if text.isascii():
            return Folded(text)
        resized = False

        def fold_run(run: re.Match[str]) -> str:
            nonlocal resized
            chars = run.group()
            if not resized and len(chars.translate(_PROBE)) != len(chars):
                resized = True
            return chars.translate(_TABLE)

        folded = _NON_ASCII.sub(fold_run, text)
        if not resized:
            return Folded(folded)  # one-for-one replacements only: positions are unchanged
    return _fold_with_offsets(text)


def _fold_with_offsets(text: str) -> Folded:
    pieces: list[str] = []
    anchors: list[tuple[int, int, int, int]] = []
    last = 0
    shift = 0  # folded position minus original position so far
    for match in _PIECE.finditer(text):
        start, end = match.span()
        pieces.append(text[last:start])
        folded = _TABLE[ord(_decoded(match["hex"]))] if match["hex"] else _TABLE[ord(match.group())]
        if len(folded) != end - start:
            anchors.append((start + shift, start, len(folded), end - start))
            shift += len(folded) - (end - start)
        pieces.append(folded)
        last = end
    pieces.append(text[last:])
    if not anchors:
        return Folded("".join(pieces))
    return Folded("".join(pieces), tuple(anchors), tuple(a[0] for a in anchors))


def _decoded(hex_digits: str) -> str:
    """The character a ``\\uXXXX`` escape (or a ``\\uD8xx\\uDCxx`` pair) stands for."""
    if len(hex_digits) == 4:
        return chr(int(hex_digits, 16))
    high, low = int(hex_digits[:4], 16), int(hex_digits[6:], 16)
    return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
