"""One colour, marker and bar hatch per model, the same in every chart of a report.

Ten colours and seven markers cycle with coprime periods, so the first 70 models all get a
different (colour, marker) pair and neighbours in the list differ in both; bars, which have no
marker, add a hatch from the eleventh model on. Sixteen models stay told apart even in greyscale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# Tableau 10: distinct hues at similar lightness, readable on white and for most colour vision.
COLOURS = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#79706e",
)
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
HATCHES = ("", "///", "...", "xxx")


@dataclass(frozen=True, slots=True)
class ModelStyle:
    colour: str
    marker: str
    hatch: str


def model_styles(models: Sequence[str]) -> dict[str, ModelStyle]:
    """Styles by position in ``models``: the results header's order, so a model keeps its look per report."""
    return {
        model: ModelStyle(
            COLOURS[index % len(COLOURS)],
            MARKERS[index % len(MARKERS)],
            HATCHES[(index // len(COLOURS)) % len(HATCHES)],
        )
        for index, model in enumerate(models)
    }
