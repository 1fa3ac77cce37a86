"""The detector seam: data classes, the ``Detection`` value, the ``Detector`` Protocol and its registry.

A detection carries a kind, a data class, a span and (once scanned) where in the request it
was found. It never carries the detected value: whoever needs the value slices the text it
scanned, in memory, and only to redact it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal, Protocol, runtime_checkable

from interlock.compliance.wire_names import WIRE_NAMES


class DataClass(StrEnum):
    """The sensitivity classes policies are written against."""

    PERSONAL = "personal"
    FINANCIAL = "financial"
    HEALTH = "health"
    PRIVILEGED = "privileged"
    SECRET = "secret"


@dataclass(frozen=True, slots=True)
class KeyName:
    """A path step naming an object key itself (not the value under it): keys are sent too."""

    key: str

    def __repr__(self) -> str:  # never the key: it may be the sensitive value
        return "KeyName(...)"


# Where in the body a text came from: a string value, a number (as its decimal text), an object key.
TextForm = Literal["string", "number", "key"]
# Fields whose numbers are data the model reads (tool inputs), not parameters such as ``seed``.
_DATA_FIELDS = frozenset({"tool_call_arguments", "tool_result"})


def is_redactable(form: str, field: str) -> bool:
    """Whether a placeholder can stand in place of a text: a string's can; so can a number's inside
    tool inputs. An object key, or a number where the upstream expects one (``seed``, a schema bound),
    cannot, so a deployment that may only see such a value redacted must not get the request."""
    return form == "string" or (form == "number" and field in _DATA_FIELDS)


@dataclass(frozen=True, slots=True)
class Location:
    """Where a text sits in a request: a JSON path plus the message it belongs to."""

    path: tuple[str | int | KeyName, ...]
    message_index: int | None = None
    role: str | None = None
    field: str = "content"  # content | tool_call_arguments | tool_result | system | tools | metadata | ...
    form: TextForm = "string"

    @property
    def redactable(self) -> bool:
        return is_redactable(self.form, self.field)

    @property
    def pointer(self) -> str:
        """The path written the way config errors are: ``messages[2].content[0].text``.

        Keys that are not wire-format field names (a metadata key, a tool parameter name) print as
        ``*``, and an object key itself as ``*(key)``: either may be what was detected.
        """
        out = ""
        for step in self.path:
            if isinstance(step, int):
                out += f"[{step}]"
                continue
            shown = "*(key)" if isinstance(step, KeyName) else (step if step in WIRE_NAMES else "*")
            out += f".{shown}" if out else shown
        return out

    def __repr__(self) -> str:  # the path may hold the request's own keys: print the masked pointer
        return f"Location({self.pointer!r}, role={self.role!r}, field={self.field!r}, form={self.form!r})"


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
