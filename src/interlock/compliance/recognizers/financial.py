"""Financial recognizers: payment cards (Luhn + issuer range), IBANs (mod-97), routing and account numbers.

Card and IBAN candidates stand on their checksums; routing and account numbers are bare digits,
so they are reported only after a naming phrase ("routing number", "sort code", "account no.").
"""

from __future__ import annotations

import re

from interlock.compliance.checksums import IBAN_LENGTHS, aba_routing_valid, card_number_valid, iban_valid
from interlock.compliance.detection import DataClass, Detection
from interlock.compliance.recognizers.patterns import AnyOfDetector, PatternDetector, is_word_char

FIN = DataClass.FINANCIAL

# A run of digits, optionally grouped by single spaces or dashes, not glued to a reference
# ("ORD-4111...") or a decimal ("0.4111..."). The run may hold more than the card ("paid 2024
# 4111 1111 1111 1111"), so whole groups are tried until a valid card is found.
_DIGIT_RUN = re.compile(r"\d(?<![\w.-]\d)(?:[ -]?\d)*")
_GROUP = re.compile(r"\d+")


class PaymentCardDetector:
    """Luhn-valid numbers in a card network's range, printed compact or in the usual groups."""

    name = "payment_card"

    def detect(self, text: str) -> list[Detection]:
        out: list[Detection] = []
        for run in _DIGIT_RUN.finditer(text):
            if run.end() - run.start() < 12:
                continue
            groups = [(run.start() + g.start(), run.start() + g.end()) for g in _GROUP.finditer(run.group())]
            end = run.end()
            decimal = text[end : end + 1] == "." and text[end + 1 : end + 2].isdigit()
            if (
                is_word_char(text, end)
                or text[end : end + 1] == "-"
                or (decimal and not _zero_fraction(text, end))
            ):
                # The last group runs into a word or a decimal: not a boundary. A dot before a letter
                # is one ("4111111111111111.pdf"), and so is ".0" (a card serialized as a float).
                groups.pop()
            out.extend(Detection("payment_card", FIN, a, b) for a, b in _cards_in(text, groups))
        return out


_ZERO_FRACTION = re.compile(r"\.0+(?![\w.])")


def _zero_fraction(text: str, dot: int) -> bool:
    """``4111111111111111.0``: a card number serialized as a JSON float ends at the dot."""
    return _ZERO_FRACTION.match(text, dot) is not None


def _cards_in(text: str, groups: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Longest valid cards made of whole groups; a run is split only where a space separates."""
    found: list[tuple[int, int]] = []
    i = 0
    while i < len(groups):
        if i > 0 and text[groups[i][0] - 1] != " ":
            i += 1
            continue
        for j in range(min(len(groups), i + 7) - 1, i - 1, -1):
            if j < len(groups) - 1 and text[groups[j][1]] != " ":
                continue
            span = _checked_card(text[groups[i][0] : groups[j][1]], groups[i][0], groups[j][1])
            if span is not None:
                found.append(span)
                i = j
                break
        i += 1
    return found


def _checked_card(raw: str, start: int, end: int) -> tuple[int, int] | None:
    groups = re.split(r"[ -]", raw)
    if len(groups) > 1:
        if len({ch for ch in raw if ch in " -"}) > 1:
            return None  # mixed separators: a phone number or a reference, not a printed card
        sizes = [len(g) for g in groups]
        four_blocks = all(s == 4 for s in sizes[:-1]) and 1 <= sizes[-1] <= 4
        if not (four_blocks or sizes in ([4, 6, 5], [4, 6, 4])):
            return None
    return (start, end) if card_number_valid("".join(groups)) else None


# Two letters, two check digits, then 11-30 alphanumerics optionally in space-separated groups.
# Anchored on the first check digit (looking back for the country letters) so the engine skips
# through prose; the body is captured in a lookahead so IBANs listed back to back are each found.
_IBAN = re.compile(r"\d(?<=[A-Za-z]{2}\d)(?<![\w][A-Za-z]{2}\d)(?=(\d(?: ?[A-Za-z0-9]){11,30}))")


class IbanDetector:
    """ISO 13616 IBANs, printed compact or in groups of four; the country fixes the length."""

    name = "iban"

    def detect(self, text: str) -> list[Detection]:
        out: list[Detection] = []
        reached = -1
        for match in _IBAN.finditer(text):
            start = match.start() - 2
            if start < reached:
                continue
            length = IBAN_LENGTHS.get(text[start : start + 2].upper())
            if length is None:
                continue
            candidate = text[start : match.end(1)]
            end = _end_of_compact(candidate, length)
            if end is None or is_word_char(text, start + end):
                continue
            if iban_valid(candidate[:end].replace(" ", "")):
                out.append(Detection("iban", FIN, start, start + end))
                reached = start + end
        return out


def _end_of_compact(candidate: str, length: int) -> int | None:
    """Index in ``candidate`` just after its ``length``-th non-space character."""
    seen = 0
    for i, ch in enumerate(candidate):
        if ch != " ":
            seen += 1
            if seen == length:
                return i + 1
    return None


_ROUTING = re.compile(
    r"\b(?:routing|aba|rtn|transit)(?:[ -](?:number|no\.?|num|code|#))?\)?\W{0,3}"
    r"(?:(?:is|was|of)\W{1,3})?(?P<value>\d{9})\b",
    re.IGNORECASE,
)
_SORT_CODE = re.compile(
    r"\bsort[ -]?code\W{0,3}(?:(?:is|was)\W{1,3})?(?P<value>\d{2}[- ]?\d{2}[- ]?\d{2})\b", re.I
)


def _aba_span(match: re.Match[str], text: str) -> tuple[int, int] | None:
    return match.span("value") if aba_routing_valid(match.group("value")) else None


def routing_number() -> AnyOfDetector:
    return AnyOfDetector(
        "routing_number",
        (
            PatternDetector(
                "routing_number",
                "routing_number",
                FIN,
                _ROUTING,
                _aba_span,
                needles=("routing", "aba", "rtn", "transit"),
                anchored=True,
            ),
            PatternDetector("sort_code", "routing_number", FIN, _SORT_CODE, needles=("sort",), anchored=True),
        ),
    )


_ACCOUNT = re.compile(
    r"\b(?:(?:bank |checking |savings |current )?account|acct|a/c)\.?"
    r"(?:[ -]?(?:number|no\.|no\b|num\b|#))?\W{0,3}(?:(?:is|was)\W{1,3})?"
    r"(?P<value>\d(?:[ -]?\d){5,16})(?![\w-])",
    re.IGNORECASE,
)


def account_number() -> PatternDetector:
    return PatternDetector(
        "account_number", "account_number", FIN, _ACCOUNT, needles=("account", "acct", "a/c"), anchored=True
    )
