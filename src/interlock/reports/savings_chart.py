"""The savings curve: share of the baseline's cost saved (y) at each quality floor (x).

Savings can fall as the floor rises, never below zero while the baseline itself meets the floor;
the y axis therefore runs from 0 to 100% and extends below zero only if calibration picked a
route dearer than the baseline (a task where the baseline falls short of the floor), labelled so.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure
from matplotlib.ticker import MultipleLocator

from interlock.reports.plotting import Chart, NoChart, percent_ticks


def savings_chart(
    points: Sequence[tuple[float, float]],
    *,
    baseline: str,
    target: float | None = None,
    routes: Sequence[str | None] = (),
    colour: str = "#2f6db5",
) -> Chart:
    """``points`` are ``(floor, share saved)``; ``routes`` (same order) names the model a floor routes
    to, or None where traffic is split (the table beside the chart spells splits out)."""
    if not points:
        return NoChart("No savings could be measured at any quality floor.")
    floors = [floor for floor, _ in points]
    saved = [share for _, share in points]
    figure = Figure(figsize=(6.0, 3.6))
    axes = figure.add_subplot()
    axes.plot(floors, saved, marker="o", color=colour, linewidth=1.5, clip_on=False, zorder=3)
    for index, route in enumerate(routes):
        if route is not None and (index == 0 or route != routes[index - 1]):  # name it where it changes
            axes.annotate(
                route,
                (floors[index], saved[index]),
                textcoords="offset points",
                xytext=(4, 7),
                fontsize=8,
            )
    low = min(floors)
    if target is not None and low <= target <= 1:
        axes.axvline(
            target, color="#888", linestyle=":", linewidth=1.2, label=f"report's floor ({target:.0%})"
        )
        axes.legend(fontsize=8, frameon=False, loc="lower left")
    axes.set_xlim(low - 0.01, 1.01)
    axes.xaxis.set_major_locator(MultipleLocator(0.05))
    lowest = min(saved)
    axes.set_ylim(0 if lowest >= 0 else lowest - 0.05, 1.0)
    percent_ticks(axes, horizontal=True)
    percent_ticks(axes, horizontal=False)
    axes.set_xlabel(f"quality floor (share of {baseline}'s quality)")
    axes.set_ylabel(
        "share of baseline cost saved"
        if lowest >= 0
        else "share of baseline cost saved\n(below 0: costs more)"
    )
    axes.grid(alpha=0.3)
    return figure
