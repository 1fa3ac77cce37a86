"""The detector seam: data classes, the ``Detection`` value, the ``Detector`` Protocol and its registry.

A detection carries a kind, a data class, a span and (once scanned) where in the request it
was found. It never carries the detected value: whoever needs the value slices the text it
scanned, in memory, and only to redact it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable


class DataClass(StrEnum):
    """The sensitivity classes policies are written against."""

    PERSONAL = "personal"
    FINANCIAL = "financial"
    HEALTH = "health"
    PRIVILEGED = "privileged"
    SECRET = "secret"


@dataclass(frozen=True, slots=True)
class Location:
    """Where a text sits in a request: a JSON path plus the message it belongs to."""

    path: tuple[str | int, ...]
    message_index: int | None = None
    role: str | None = None
    field: str = "content"  # content | tool_call_arguments | tool_result | system | prompt | ...

    @property
    def pointer(self) -> str:
        """The path written the way config errors are: ``messages[2].content[0].text``."""
        out = ""
        for step in self.path:
            out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
        return out


@dataclass(frozen=True, slots=True)
class Detection:
    """One sensitive span: ``text[start:end]`` of the text at ``location``; the value is never kept."""

    kind: str
    data_class: DataClass
    start: int
    end: int
    location: Location | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "data_class": self.data_class.value,
            "start": self.start,
            "end": self.end,
        }
        if self.location is not None:
            out["location"] = self.location.pointer
            out["message_index"] = self.location.message_index
            out["role"] = self.location.role
            out["field"] = self.location.field
        return out


@runtime_checkable
class Detector(Protocol):
    """Finds sensitive spans in one text. Must be pure and cheap: it runs on every request."""

    @property
    def name(self) -> str:
        """The registry name; built-in recognizers share it with the kind they report."""
        ...

    def detect(self, text: str) -> list[Detection]: ...


DetectorFactory = Callable[[], Detector]


class DetectorRegistry:
    """Detector factories by name; built-ins register here the same way extensions do."""

    def __init__(self) -> None:
        self._factories: dict[str, DetectorFactory] = {}

    def register(self, name: str, factory: DetectorFactory) -> None:
        if name in self._factories:
            raise ValueError(f"detector {name!r} is already registered")
        self._factories[name] = factory

    def names(self) -> list[str]:
        return list(self._factories)

    def create(self, names: Iterable[str] | None = None, *, exclude: Iterable[str] = ()) -> list[Detector]:
        """Instantiate the named detectors (all when ``names`` is None), minus ``exclude``."""
        chosen = list(self._factories) if names is None else list(names)
        unknown = [n for n in [*chosen, *exclude] if n not in self._factories]
        if unknown:
            raise KeyError(f"unknown detector(s): {', '.join(unknown)}; known: {', '.join(self._factories)}")
        skipped = set(exclude)
        return [self._factories[n]() for n in chosen if n not in skipped]


def drop_contained_same_kind(detections: Iterable[Detection]) -> list[Detection]:
    """Sort by position and drop a detection lying inside another of the same kind.

    Different kinds may overlap (an account number that is also a card number): both are
    kept so policy sees every class, and redaction merges overlapping spans.
    """
    ordered = sorted(detections, key=lambda d: (d.start, -(d.end - d.start), d.kind))
    kept: list[Detection] = []
    reach: dict[str, int] = {}
    for det in ordered:
        if det.end <= reach.get(det.kind, -1):
            continue
        kept.append(det)
        reach[det.kind] = max(reach.get(det.kind, -1), det.end)
    return kept


def merged_spans(detections: Iterable[Detection]) -> Iterator[tuple[int, int, Detection]]:
    """Yield non-overlapping ``(start, end, representative)`` spans; overlaps are merged.

    The representative is the longest detection of a merged group, so its kind names the
    placeholder.
    """
    group: list[Detection] = []
    end = -1
    for det in sorted(detections, key=lambda d: (d.start, -(d.end - d.start))):
        if group and det.start < end:
            group.append(det)
            end = max(end, det.end)
            continue
        if group:
            yield group[0].start, end, max(group, key=lambda d: d.end - d.start)
        group, end = [det], det.end
    if group:
        yield group[0].start, end, max(group, key=lambda d: d.end - d.start)
