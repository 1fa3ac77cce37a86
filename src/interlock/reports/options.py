"""What a report is asked for: the quality floor, the traffic mix, the baseline, the volume."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ReportOptions:
    target: float = 0.95
    mix: Mapping[str, float] | None = None
    mix_source: str = "the suite's category mix"
    open_models: Collection[str] | None = None
    baseline: str | None = None
    requests_per_month: float | None = None
    title: str | None = None
