"""Scoring detectors against the labelled set: per-kind precision and recall (shared by test and docs)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from interlock.compliance.scanning import Scanner

DETECTION_SET = Path(__file__).parent / "data" / "detection_set.jsonl"


@dataclass
class KindScore:
    true_positives: int = 0  # detections that overlap a label of their kind
    detections: int = 0
    found_labels: int = 0  # labels overlapped by a detection of their kind
    labels: int = 0
    misses: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.true_positives / self.detections if self.detections else 1.0

    @property
    def recall(self) -> float:
        return self.found_labels / self.labels if self.labels else 1.0


def examples() -> Iterator[dict]:
    with DETECTION_SET.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def _label_spans(text: str, kind: str, value: str) -> list[tuple[str, int, int]]:
    spans, start = [], text.find(value)
    while start != -1:
        spans.append((kind, start, start + len(value)))
        start = text.find(value, start + 1)
    return spans


def score(scanner: Scanner) -> dict[str, KindScore]:
    scores: dict[str, KindScore] = {}
    for example in examples():
        text = example["text"]
        labels = [s for lab in example["labels"] for s in _label_spans(text, lab["kind"], lab["value"])]
        found = scanner.scan_text(text)
        for det in found:
            s = scores.setdefault(det.kind, KindScore())
            s.detections += 1
            if any(k == det.kind and det.start < e and b < det.end for k, b, e in labels):
                s.true_positives += 1
            else:
                s.false_alarms.append(f"{example['id']}: {text[det.start : det.end]!r}")
        for kind, b, e in labels:
            s = scores.setdefault(kind, KindScore())
            s.labels += 1
            if any(d.kind == kind and d.start < e and b < d.end for d in found):
                s.found_labels += 1
            else:
                s.misses.append(f"{example['id']}: {text[b:e]!r}")
    return scores
