"""Privileged legal material: the markers lawyers put on privileged communications and work product.

A marker is a label ("PRIVILEGED & CONFIDENTIAL", "Attorney Work Product", "protected by the
attorney-client privilege"), not a mention: "what is attorney-client privilege?" is a question
about the law and is not reported.
"""

from __future__ import annotations

import re

from interlock.compliance.detection import DataClass
from interlock.compliance.recognizers.patterns import AnyOfDetector, PatternDetector

_AC = r"attorney[- ]client"
_MARKERS = re.compile(
    "|".join(
        (
            r"\bprivileged\s*(?:and|&)\s*confidential\b",
            r"\bconfidential\s*(?:and|&)\s*privileged\b",
            rf"\b{_AC}\s+privileged\b(?:\s+(?:and|&)\s+confidential)?",
            rf"\b(?:protected|covered)\s+by\s+(?:the\s+)?{_AC}"
            r"(?:\s+privilege|\s+and\s+work[- ]product\s+privileges?)",
            rf"\bsubject\s+to\s+(?:the\s+)?{_AC}\s+privilege",
            rf"\b{_AC}\s+(?:privileged\s+)?communication\b",
            r"\battorney\s+work[- ]product\b",
            r"\bprivileged\s+(?:legal\s+advice|communication|attorney|work[- ]product)\b",
            r"\blegally\s+privileged\b",
            r"\bprepared\s+(?:at\s+the\s+(?:request|direction)\s+of|by)\s+(?:legal\s+)?counsel\b",
            r"\bwithout\s+prejudice\s+save\s+as\s+to\s+costs\b",
            r"\bsubject\s+to\s+legal\s+(?:professional\s+)?privilege\b",
        )
    ),
    re.IGNORECASE,
)
# Upper-case banners are markers even in their short forms.
_BANNERS = re.compile(r"\b(?:ATTORNEY[- ]CLIENT PRIVILEGE|PRIVILEGED|WITHOUT PREJUDICE|WORK PRODUCT)\b")


def _not_a_question(match: re.Match[str], text: str) -> tuple[int, int] | None:
    # "Is this attorney-client privileged?" asks; it does not mark.
    tail = text[match.end() : match.end() + 2]
    return None if tail.startswith("?") else match.span()


def privilege_marker() -> AnyOfDetector:
    return AnyOfDetector(
        "privilege_marker",
        (
            PatternDetector(
                "privilege_phrase",
                "privilege_marker",
                DataClass.PRIVILEGED,
                _MARKERS,
                _not_a_question,
                needles=("privilege", "work product", "work-product", "counsel", "prejudice"),
                window=(60, 60),
            ),
            PatternDetector(
                "privilege_banner",
                "privilege_marker",
                DataClass.PRIVILEGED,
                _BANNERS,
                needles=("PRIVILEGE", "PREJUDICE", "WORK PRODUCT"),
                case_sensitive_needles=True,
            ),
        ),
    )
