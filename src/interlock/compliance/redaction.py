"""Redaction: detected values become stable placeholders (``<EMAIL_1>``) and come back in the answer.

The same value gets the same placeholder everywhere in a request, and once a value is redacted
every other whole-token occurrence of it in the request is replaced too, so a value detected in
one message (say by its label) cannot leak from another where it stands unlabelled. The values
live only in the ``Restorer``, in memory, for the life of the request.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from interlock.compliance.detection import DataClass, Detection, merged_spans
from interlock.compliance.normalisation import normalise
from interlock.compliance.request_text import Path, iter_texts, replace_texts
from interlock.compliance.scanning import SensitivityReport

PLACEHOLDER = re.compile(r"<[A-Z][A-Z0-9_]*_\d+>")


class Restorer:
    """Puts original values back in place of this request's placeholders."""

    def __init__(self, values: Mapping[str, str]) -> None:
        # placeholder -> original value, as plain text and as text inside a JSON string. A value
        # cut out of JSON text (tool arguments) may hold escapes: it is already in JSON form.
        self._values: dict[str, str] = {}
        self._escaped: dict[str, str] = {}
        for placeholder, value in values.items():
            plain = _json_unescaped(value)
            self._values[placeholder] = plain
            self._escaped[placeholder] = value if plain != value else json.dumps(value)[1:-1]

    def __repr__(self) -> str:  # never the values: this object may end up in a log line
        return f"Restorer({len(self._values)} placeholders)"

    @property
    def placeholders(self) -> frozenset[str]:
        return frozenset(self._values)

    def restore(self, text: str, *, json_escaped: bool = False) -> str:
        """Replace every known placeholder in ``text``; ``json_escaped`` for text inside a JSON string."""
        if not self._values or "<" not in text:
            return text
        table = self._escaped if json_escaped else self._values
        return PLACEHOLDER.sub(lambda m: table.get(m.group(), m.group()), text)

    def stream(self, *, json_escaped: bool = False) -> StreamRestorer:
        """A restorer for one streamed text (one choice's content, one tool call's arguments)."""
        return StreamRestorer(self, json_escaped=json_escaped)


_JSON_ESCAPE = re.compile(r"\\u[0-9a-fA-F]{4}")


def _json_unescaped(value: str) -> str:
    """``value`` with its JSON escapes decoded when it holds any (and decodes cleanly)."""
    if "\\u" not in value or not _JSON_ESCAPE.search(value):
        return value
    try:
        decoded = json.loads(f'"{value}"')
    except ValueError:
        return value
    return decoded if isinstance(decoded, str) else value


class StreamRestorer:
    """Restores a text that arrives in chunks, holding back only a possible placeholder's start.

    At most ``len(longest placeholder) - 1`` characters are held, and only while they could still
    become a placeholder; ``flush`` at the end of the stream releases whatever is left unchanged.
    """

    def __init__(self, restorer: Restorer, *, json_escaped: bool = False) -> None:
        self._restorer = restorer
        self._json_escaped = json_escaped
        self._prefixes = frozenset(p[:i] for p in restorer.placeholders for i in range(1, len(p)))
        self._pending = ""

    def feed(self, chunk: str) -> str:
        text = self._pending + chunk
        self._pending = ""
        cut = text.rfind("<")
        if cut != -1 and text[cut:] in self._prefixes:
            text, self._pending = text[:cut], text[cut:]
        return self._restorer.restore(text, json_escaped=self._json_escaped)

    def flush(self) -> str:
        text, self._pending = self._pending, ""
        return text

    @property
    def holding(self) -> int:
        """How many characters are held back right now."""
        return len(self._pending)


@dataclass(frozen=True, slots=True)
class Redaction:
    """A redacted copy of the request, and how to undo it in the answer."""

    request: dict[str, Any]
    restorer: Restorer
    counts: dict[str, int]  # placeholders minted per kind

    @property
    def changed(self) -> bool:
        return bool(self.counts)


class UnredactableValue(ValueError):
    """A value to redact sits where no placeholder can stand: an object key, or a number the upstream
    needs as a number. The deployment that may only see it redacted must not get this request."""


def redact_request(
    request: Mapping[str, Any], report: SensitivityReport, classes: Iterable[DataClass] | None = None
) -> Redaction:
    """Redact the detections of ``classes`` (all when None) found in ``request`` by ``report``.

    ``report`` must come from scanning this same request. The original request is not modified.
    Raises ``UnredactableValue`` when a value to redact (or a repeat of one) cannot be replaced.
    """
    selected = report.detections if classes is None else report.of_classes(classes).detections
    located = list(iter_texts(request))
    texts: dict[Path, str] = {loc.path: text for loc, text in located}
    fixed = {loc.path for loc, _ in located if not loc.redactable}
    minter = _PlaceholderMinter(texts.values())
    by_path: dict[Path, list[Detection]] = defaultdict(list)
    for det in selected:
        if det.location is None or det.location.path not in texts:
            raise ValueError("the report does not belong to this request (a detection has no matching text)")
        if det.location.path in fixed:
            raise UnredactableValue(
                f"a {det.data_class.value} value at {det.location.pointer} cannot be redacted in place"
            )
        by_path[det.location.path].append(det)

    new_texts: dict[Path, str] = {}
    for path, detections in by_path.items():
        text = texts[path]
        pieces: list[str] = []
        last = 0
        for start, end, det in merged_spans(detections):
            if end > len(text):
                raise ValueError("the report does not belong to this request (a span is out of range)")
            pieces.append(text[last:start])
            pieces.append(minter.placeholder_for(det.kind, text[start:end]))
            last = end
        pieces.append(text[last:])
        new_texts[path] = "".join(pieces)

    _replace_other_occurrences(texts, new_texts, minter.values, fixed)
    return Redaction(replace_texts(request, new_texts), Restorer(minter.by_placeholder), dict(minter.counts))


class _PlaceholderMinter:
    def __init__(self, texts: Iterable[str]) -> None:
        # Placeholder-shaped strings the caller already wrote must not be minted, or restoring
        # would overwrite them.
        self._taken = {m.group() for text in texts if "<" in text for m in PLACEHOLDER.finditer(text)}
        self.values: dict[str, str] = {}  # folded value -> placeholder
        self.by_placeholder: dict[str, str] = {}
        self.counts: dict[str, int] = defaultdict(int)

    def placeholder_for(self, kind: str, value: str) -> str:
        # Keyed by the folded form: "536–22–8191" and "536-22-8191" are one value, one placeholder.
        key = normalise(value).text
        if key in self.values:
            return self.values[key]
        label = kind.upper()
        while True:
            self.counts[kind] += 1
            placeholder = f"<{label}_{self.counts[kind]}>"
            if placeholder not in self._taken:
                break
        self.values[key] = placeholder
        self.by_placeholder[placeholder] = value
        return placeholder


def _replace_other_occurrences(
    originals: Mapping[Path, str], new_texts: dict[Path, str], values: Mapping[str, str], fixed: set[Path]
) -> None:
    """Replace whole-token repeats of redacted values in every text, detected there or not.

    Repeats are matched on the folded text, so an obfuscated repeat is caught too. A repeat where
    no placeholder can stand (``fixed``: a key, a number parameter) makes the request unredactable.
    """
    if not values:
        return
    ordered = sorted(values, key=len, reverse=True)
    pattern = re.compile("|".join(rf"(?<![A-Za-z0-9]){re.escape(v)}(?![A-Za-z0-9])" for v in ordered))
    for path, original in originals.items():
        current = new_texts.get(path, original)
        folded = normalise(current)
        pieces: list[str] = []
        last = 0
        for match in pattern.finditer(folded.text):
            if path in fixed:
                raise UnredactableValue("a redacted value is repeated where it cannot be redacted in place")
            start, end = folded.original_span(*match.span())
            pieces += [current[last:start], values[match.group()]]
            last = end
        if pieces:
            new_texts[path] = "".join(pieces) + current[last:]
