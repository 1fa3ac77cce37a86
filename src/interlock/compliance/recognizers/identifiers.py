"""Personal identifiers: US SSNs, UK National Insurance numbers and IP addresses.

Each candidate passes its issuing rules (SSA area/group/serial, HMRC prefixes) or the
``ipaddress`` parser; IPv4 candidates that read as version, section or OID numbers are dropped.
"""

from __future__ import annotations

import ipaddress
import re

from interlock.compliance.checksums import nino_valid, ssn_valid
from interlock.compliance.detection import DataClass, Detection
from interlock.compliance.recognizers.patterns import (
    AnyOfDetector,
    PatternDetector,
    is_word_char,
    preceded_by,
)

PERSONAL = DataClass.PERSONAL

# Dashed SSNs stand on their own; spaced or bare nine digits need the words "SSN"/"social security".
_SSN_DASHED = re.compile(r"(?P<a>\d(?<![\w-]\d)\d\d)-(?P<g>\d{2})-(?P<s>\d{4})(?![\w-])")
_SSN_NAMED = re.compile(
    r"\b(?P<label>ssn|ss#|social security(?: number| no\.?| #)?)"
    r"(?P<between>\W{0,3}(?:(?:is|was|of)\W{1,3})?)"
    r"(?P<value>(?P<a>\d{3})(?P<sep>[- ]?)(?P<g>\d{2})(?P=sep)(?P<s>\d{4}))(?![\w-])",
    re.IGNORECASE,
)
# "SSN: ...", "ssn = ...", '"ssn": "..."', "SSN is ...", "Social security number ...": a labelled
# field is sensitive whatever its value (a voided or example number in a form is still where a real
# one goes). A bare label before a number ("the sample SSN 078-05-1120") is a mention and the
# number must pass the issuing rules.
_FIELD_SEPARATOR = re.compile(r"[:=]|\b(?i:is|was)\b")
_FIELD_CAPTION = re.compile(r"(?i:number|no\.?|#)$")


def is_field(label: str, between: str) -> bool:
    """Whether a label and what follows it make a form field: a separator (``:``, ``=``, "is") or
    a caption ending in "number", "no." or "#"."""
    return _FIELD_SEPARATOR.search(between) is not None or _FIELD_CAPTION.search(label) is not None


def _ssn_span(match: re.Match[str], text: str) -> tuple[int, int] | None:
    labelled = "label" in match.re.groupindex and is_field(match.group("label"), match.group("between"))
    if not labelled and not ssn_valid(match.group("a"), match.group("g"), match.group("s")):
        return None
    return match.span("value") if "value" in match.re.groupindex else match.span()


def us_ssn() -> AnyOfDetector:
    return AnyOfDetector(
        "us_ssn",
        (
            PatternDetector("ssn_dashed", "us_ssn", PERSONAL, _SSN_DASHED, _ssn_span, needles=("-",)),
            PatternDetector(
                "ssn_named",
                "us_ssn",
                PERSONAL,
                _SSN_NAMED,
                _ssn_span,
                needles=("ssn", "ss#", "social security"),
                anchored=True,
            ),
        ),
    )


# Two prefix letters, six digits (optionally spaced in pairs) and a suffix A-D; one case throughout.
# The pattern starts at the first digit (digits are rarer than letters) and looks back for the prefix.
_NINO = re.compile(r"\d(?:(?<=[A-Za-z]\d)|(?<=[A-Za-z] \d))\d ?\d\d ?\d\d ?(?P<x>[A-Da-d])\b")


def _nino_span(match: re.Match[str], text: str) -> tuple[int, int] | None:
    start = match.start() - (3 if text[match.start() - 1] == " " else 2)
    prefix = text[max(0, start) : start + 2]
    if start < 0 or not prefix.isalpha() or is_word_char(text, start - 1):
        return None
    letters = prefix + match.group("x")
    if not (letters.isupper() or letters.islower()) or not nino_valid(prefix):
        return None
    return start, match.end()


# A labelled National Insurance field counts whatever its letters (the HMRC sample QQ 12 34 56 C).
_NINO_FIELD = re.compile(
    r"\b(?P<label>nino|ni(?: number| no\.?| #|(?=[\"']?\s*[:=]))"
    r"|national insurance(?: number| no\.?| #)?)[\"']?"
    r"(?P<between>\s*(?:[:=]|\b(?:is|was)\b)?\s*[\"']?)"
    r"(?P<value>[a-z]{2} ?\d\d ?\d\d ?\d\d ?[a-z])\b",
    re.IGNORECASE,
)


def _nino_field_span(match: re.Match[str], text: str) -> tuple[int, int] | None:
    return match.span("value") if is_field(match.group("label"), match.group("between")) else None


def uk_nino() -> AnyOfDetector:
    return AnyOfDetector(
        "uk_nino",
        (
            PatternDetector("uk_nino_shape", "uk_nino", PERSONAL, _NINO, _nino_span),
            PatternDetector(
                "uk_nino_field",
                "uk_nino",
                PERSONAL,
                _NINO_FIELD,
                _nino_field_span,
                needles=("nino", "ni ", "ni:", "ni=", 'ni"', "ni'", "national insurance"),
                anchored=True,
            ),
        ),
    )


_IPV4 = re.compile(r"\d(?<![\w.]\d)\d{0,2}(?:\.\d{1,3}){3}(?![\w]|\.\d|-(?:alpha|beta|rc|dev|snapshot))")
# Words after which a dotted quad is a version, a section or a rule number, not an address.
_NOT_AN_ADDRESS = re.compile(
    r"(?:\b(?:version|ver|release|rel|build|firmware|fw|sdk|api|update|upgrade|patch|tag|"
    r"section|sec|clause|chapter|article|paragraph|para|step|rule|figure|fig|table|item|oid|"
    r"python|node|java|chrome|firefox|safari|edge|android|ios|kernel|driver)\.?"
    r"(?:\s+(?:to|is|of|from|number|no\.?))?|==|>=|<=|~=|!=|\^|@|§|\bv)\s*[:=]?\s*$",
    re.IGNORECASE,
)


# "from 2.4.1.0 to 2.5.0.0", "bump the driver version to 10.2.0.3": after "to", "from" or an arrow,
# a dotted quad is a version when its clause speaks of versions. "Route traffic to 203.0.113.45"
# has no such word and stays an address.
_VERSION_CLAUSE = re.compile(
    r"\b(?:versions?|ver|releases?|builds?|firmware|fw|sdk|upgrad\w*|downgrad\w*|bump\w*|packages?|"
    r"drivers?|librar(?:y|ies)|dependenc(?:y|ies))\b(?:[^.!?\n]|\.(?=\S))*?(?:\bto|\bfrom|->|=>)\s*$",
    re.IGNORECASE,
)


def _ipv4_span(match: re.Match[str], text: str) -> tuple[int, int] | None:
    octets = match.group().split(".")
    if any(len(o) > 1 and o[0] == "0" for o in octets) or any(int(o) > 255 for o in octets):
        return None  # not an address (leading zeros are refused, as ``ipaddress`` does)
    first = int(octets[0])
    if first in (0, 127) or first == 255:
        return None  # 0.x, 127.x and netmasks say nothing about a person
    if preceded_by(text, match.start(), _NOT_AN_ADDRESS, window=30):
        return None
    if preceded_by(text, match.start(), _VERSION_CLAUSE, window=100):
        return None
    return match.span()


# Two colons close together, the anchor an IPv6 address cannot lack ("::" or "a:b:").
_IPV6_ANCHOR = re.compile(r":(?=[0-9A-Fa-f]{0,4}:)")
_HEX = frozenset("0123456789abcdefABCDEF")
_IPV6_BODY = frozenset("0123456789abcdefABCDEF:.")


class Ipv6Detector:
    """IPv6 addresses grown outwards from a colon pair and checked by ``ipaddress``."""

    name = "ipv6"

    def detect(self, text: str) -> list[Detection]:
        out: list[Detection] = []
        reached = -1
        for anchor in _IPV6_ANCHOR.finditer(text):
            if anchor.start() < reached:
                continue
            span = _grow_ipv6(text, anchor.start())
            if span is not None:
                out.append(Detection("ip_address", PERSONAL, *span))
                reached = span[1]
        return out


def _grow_ipv6(text: str, colon: int) -> tuple[int, int] | None:
    start = colon
    while start > 0 and colon - start < 4 and text[start - 1] in _HEX:
        start -= 1
    end = colon
    while end < len(text) and end - start < 45 and text[end] in _IPV6_BODY:
        end += 1
    if end < len(text) and text[end] == "%":  # zone id: fe80::1%eth0
        zone_end = end + 1
        while zone_end < len(text) and text[zone_end].isalnum():
            zone_end += 1
        end = zone_end if zone_end > end + 1 else end
    while end > start and text[end - 1] in ".:" and text[end - 2 : end] != "::":
        end -= 1
    if is_word_char(text, start - 1) or text[start - 1 : start] in (":", ".") or is_word_char(text, end):
        return None
    candidate = text[start:end]
    try:
        address = ipaddress.IPv6Address(candidate)
    except ValueError:
        return None
    if address.is_unspecified or address.is_loopback or not any(ch.isdigit() for ch in candidate):
        return None  # "::", "::1" and hex words such as dead::beef
    return start, end


def ip_address() -> AnyOfDetector:
    return AnyOfDetector(
        "ip_address",
        (
            PatternDetector("ipv4", "ip_address", PERSONAL, _IPV4, _ipv4_span, needles=(".",)),
            Ipv6Detector(),
        ),
    )
