"""What every chart of the report shares: the no-data note, PNG data URIs, axes and legends.

Charts are matplotlib ``Figure`` objects built without pyplot, so nothing global (backends, open
figures) is touched. A chart without data is a ``NoChart`` carrying the sentence shown instead.
Cost and quality are never negative, so their axes start at zero; a cost axis turns logarithmic
only when the costs span more than ``LOG_SPREAD`` times, and then says so in its label.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter, PercentFormatter

from interlock.reports.money import format_usd

LOG_SPREAD = 100.0
CROWDED = 7  # legend entries beyond which the legend moves outside the plot area
COST_LABEL = "cost per 1,000 requests (USD)"
DPI = 110


@dataclass(frozen=True, slots=True)
class NoChart:
    """Why a chart is not drawn, in one line for the reader."""

    note: str


Chart = Figure | NoChart


def data_uri(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def cost_x_axis(axes: Axes, costs: Sequence[float]) -> None:
    """Cost from $0, or logarithmic (labelled so) when every cost is positive and they span > 100x."""
    low, high = min(costs), max(costs)
    if low > 0 and high / low > LOG_SPREAD:
        axes.set_xscale("log")
        axes.set_xlim(low / 2, high * 2)
        axes.xaxis.set_minor_formatter(NullFormatter())
        axes.set_xlabel("cost per 1,000 requests (USD, log scale)")
    else:
        axes.set_xlim(0, high * 1.12 if high > 0 else 1.0)
        axes.set_xlabel(COST_LABEL)
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: format_usd(value, compact=True)))


def quality_y_axis(axes: Axes) -> None:
    """Quality is a mean score in [0, 1]; the whole range is shown so small gaps are not magnified."""
    axes.set_ylim(0, 1.05)
    axes.set_ylabel("quality (mean score)")


def percent_ticks(axes: Axes, *, horizontal: bool) -> None:
    (axes.xaxis if horizontal else axes.yaxis).set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))


def place_legend(
    axes: Axes,
    entries: int,
    handles: Sequence[Artist] | None = None,
    labels: Sequence[str] | None = None,
    inside: str = "best",
) -> None:
    """Inside the plot when there are few entries; outside to the right once it would cover points."""
    place: dict[str, Any] = (
        {"loc": inside}
        if entries <= CROWDED
        else {"loc": "upper left", "bbox_to_anchor": (1.02, 1.0), "borderaxespad": 0.0}
    )
    if handles is not None and labels is not None:
        axes.legend(handles, labels, fontsize=8, frameon=False, **place)
    else:
        axes.legend(fontsize=8, frameon=False, **place)
