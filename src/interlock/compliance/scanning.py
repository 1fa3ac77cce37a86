"""Scanning a whole chat request into a ``SensitivityReport``: which data classes, which kinds, where.

The report holds kinds, classes and spans only, so it can be logged, serialized and shown by
``interlock route --json``; the values stay in the request, which only redaction reads.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from interlock.compliance.detection import (
    DataClass,
    Detection,
    Detector,
    DetectorRegistry,
    Location,
    drop_contained_same_kind,
)
from interlock.compliance.normalisation import normalise
from interlock.compliance.policy import DetectionSettings
from interlock.compliance.recognizers import builtin_registry
from interlock.compliance.recognizers.patterns import lower_same_length
from interlock.compliance.request_text import Path, collect_texts

# Between texts of one request when they are scanned together; no pattern crosses a blank line
# except a private key block, which is split back per text.
_SEPARATOR = "\n\n"


@dataclass(frozen=True, slots=True)
class SensitivityReport:
    """What a scan found. Empty when the request carries nothing sensitive."""

    detections: tuple[Detection, ...] = ()

    @property
    def data_classes(self) -> frozenset[DataClass]:
        return frozenset(d.data_class for d in self.detections)

    @property
    def kinds(self) -> dict[str, int]:
        """Count of detections per kind, most frequent first."""
        return dict(Counter(d.kind for d in self.detections).most_common())

    @property
    def unredactable_classes(self) -> frozenset[DataClass]:
        """Classes found where no placeholder can stand (an object key, a number parameter)."""
        return frozenset(
            d.data_class for d in self.detections if d.location is not None and not d.location.redactable
        )

    @property
    def is_empty(self) -> bool:
        return not self.detections

    def of_classes(self, classes: Iterable[DataClass]) -> SensitivityReport:
        wanted = frozenset(classes)
        return SensitivityReport(tuple(d for d in self.detections if d.data_class in wanted))

    def by_path(self) -> dict[Path, list[Detection]]:
        out: dict[Path, list[Detection]] = {}
        for det in self.detections:
            if det.location is not None:
                out.setdefault(det.location.path, []).append(det)
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary; it holds positions, never values."""
        return {
            "data_classes": sorted(c.value for c in self.data_classes),
            "kinds": self.kinds,
            "detections": [d.to_dict() for d in self.detections],
        }


class Scanner:
    """Runs a fixed set of detectors over texts and whole requests."""

    def __init__(self, detectors: Sequence[Detector] | None = None) -> None:
        self.detectors: tuple[Detector, ...] = tuple(
            detectors if detectors is not None else builtin_registry().create()
        )

    def scan_text(self, text: str, location: Location | None = None) -> list[Detection]:
        """Detections in ``text``, found in its folded form, with spans on ``text`` as given."""
        folded = normalise(text)
        found: list[Detection] = []
        try:
            for detector in self.detectors:
                found.extend(detector.detect(folded.text))
        finally:
            lower_same_length.cache_clear()  # do not keep a copy of the prompt after the scan
        kept = drop_contained_same_kind(found)
        if location is None and folded.offsets is None:
            return kept
        out: list[Detection] = []
        for d in kept:
            start, end = folded.original_span(d.start, d.end)
            out.append(Detection(d.kind, d.data_class, start, end, location))
        return out

    def scan_request(self, request: Mapping[str, Any]) -> SensitivityReport:
        """Scan every text of the request in one pass over the concatenation of its distinct texts.

        One pass costs far less than one per text, and a text repeated across the body (an enum
        value, a tool description sent twice) is scanned once; the blank line between texts stops
        patterns from joining them, and a span that still crosses (a private key split over two
        messages) is reported in each text it touches.
        """
        leaves = collect_texts(request)
        if not leaves:
            return SensitivityReport()
        first_of: dict[str, int] = {}  # text -> index among the distinct texts
        holders: list[list[int]] = []  # distinct text -> indexes of the leaves that hold it
        for index, (_, _, _, text) in enumerate(leaves):
            slot = first_of.setdefault(text, len(holders))
            if slot == len(holders):
                holders.append([])
            holders[slot].append(index)
        distinct = list(first_of)
        starts: list[int] = []
        position = 0
        for text in distinct:
            starts.append(position)
            position += len(text) + len(_SEPARATOR)
        found: list[tuple[int, Detection]] = []
        for det in self.scan_text(_SEPARATOR.join(distinct)):
            slot = bisect_right(starts, det.start) - 1
            while slot < len(distinct) and starts[slot] < det.end:
                start = max(det.start, starts[slot]) - starts[slot]
                end = min(det.end, starts[slot] + len(distinct[slot])) - starts[slot]
                if end > start:
                    for index in holders[slot]:
                        path, ctx, form, _ = leaves[index]
                        where = ctx.at(path, form)
                        found.append((index, Detection(det.kind, det.data_class, start, end, where)))
                slot += 1
        found.sort(key=lambda pair: pair[0])  # report in document order
        return SensitivityReport(tuple(det for _, det in found))


def scanner_for(settings: DetectionSettings, registry: DetectorRegistry | None = None) -> Scanner:
    """A scanner with every registered recognizer except those the settings disable."""
    return Scanner((registry or builtin_registry()).create(exclude=settings.disable))


@lru_cache(maxsize=1)
def default_scanner() -> Scanner:
    """The scanner with every built-in recognizer (detectors are stateless, so one is shared)."""
    return Scanner()


def scan_request(request: Mapping[str, Any], scanner: Scanner | None = None) -> SensitivityReport:
    """Scan every string, number and object key of a request body (OpenAI or Anthropic shape)."""
    return (scanner or default_scanner()).scan_request(request)
