"""The report's tables as rows of text: models, quality per task, routes, and routes by quality floor.

Every number is rounded here, once, so the HTML and the Markdown show the same figures.
"""

from __future__ import annotations

from collections.abc import Sequence

from interlock.evaluation.stats import OVERALL, Cell, Summary, pareto_frontier, quality_cost_points
from interlock.reports.blocks import Strong, TableCell
from interlock.reports.charts import task_label
from interlock.reports.money import NO_VALUE, format_usd
from interlock.reports.savings_curve import (
    FLOORS,
    CalibrationOutcome,
    FloorCalibrations,
    FloorPoint,
    route_label,
)

MODEL_HEADERS = [
    "model",
    "quality [95% CI]",
    "scored",
    "failed",
    "cost / 1k requests",
    "p50",
    "p95",
    "Pareto",
]
TASK_MODEL_HEADERS = ["model", "quality [95% CI]", "scored", "failed", "cost / 1k requests", "Pareto"]
ROUTE_HEADERS = [
    "category",
    "route",
    "quality",
    "cost / 1k",
    "baseline",
    "baseline quality",
    "baseline cost / 1k",
    "traffic",
]
FLOOR_HEADERS = ["quality floor", "route", "quality", "cost / 1k requests", "saved against the baseline"]
OVERALL_FLOOR_HEADERS = [
    "quality floor",
    "cost / 1k requests",
    "baseline cost / 1k requests",
    "saved against the baseline",
    "quality kept",
]


def quality_text(cell: Cell | None) -> str:
    if cell is None or cell.quality is None or cell.interval is None:
        return NO_VALUE
    return f"{cell.quality:.2f} [{cell.interval.low:.2f}, {cell.interval.high:.2f}]"


def share_text(share: float | None) -> str:
    if share is None:
        return NO_VALUE
    return f"{share:.0%}" if share >= 0 else f"{share:.0%} (costs more)"


def _ms(value: float | None) -> str:
    return NO_VALUE if value is None else f"{value:,.0f} ms"


def model_rows(summary: Summary, category: str = OVERALL) -> list[list[TableCell]]:
    """One row per model on ``category``; the overall table adds latency columns."""
    frontier = set(pareto_frontier(quality_cost_points(summary, category)))
    rows: list[list[TableCell]] = []
    for model in summary.models:
        cell = summary.cell(model, category)
        if cell is None:
            continue
        row: list[TableCell] = [model, quality_text(cell), str(cell.n), str(cell.failed)]
        row.append(format_usd(cell.cost_per_1k_usd))
        if category == OVERALL:
            row += [_ms(cell.latency_p50_ms), _ms(cell.latency_p95_ms)]
        row.append("yes" if model in frontier else "")
        rows.append(row)
    return rows


def category_rows(summary: Summary) -> list[list[TableCell]]:
    rows: list[list[TableCell]] = []
    for category in summary.categories:
        cells = [summary.cell(m, category) for m in summary.models]
        best = max((c.quality for c in cells if c and c.quality is not None), default=None)
        row: list[TableCell] = [task_label(category)]
        for cell in cells:
            text = quality_text(cell)
            row.append(Strong(text) if cell and cell.quality is not None and cell.quality == best else text)
        rows.append(row)
    return rows


def route_rows(calibration: CalibrationOutcome) -> list[list[TableCell]]:
    return [
        [
            task_label(c),
            route_label(r),
            f"{r.quality:.2f}",
            format_usd(r.cost_per_1k_usd),
            r.baseline_model,
            f"{r.baseline_quality:.2f}",
            format_usd(r.baseline_cost_per_1k_usd),
            f"{calibration.mix[c]:.0%}",
        ]
        for c, r in calibration.routes.items()
        if c in calibration.mix
    ]


def _floor_range(first: float, last: float) -> str:
    return f"{first:.1%}".replace(".0%", "%") + (
        "" if first == last else " to " + f"{last:.1%}".replace(".0%", "%")
    )


def floor_rows(points: Sequence[FloorPoint]) -> list[list[TableCell]]:
    """Routes by quality floor, consecutive floors with the same route and cost merged into one row."""
    rows: list[list[TableCell]] = []
    start = 0
    for index, point in enumerate(points):
        following = points[index + 1] if index + 1 < len(points) else None
        if following is not None and (following.route, following.cost_per_1k_usd) == (
            point.route,
            point.cost_per_1k_usd,
        ):
            continue
        rows.append(
            [
                _floor_range(points[start].floor, point.floor),
                point.route,
                f"{point.quality:.2f}",
                format_usd(point.cost_per_1k_usd),
                share_text(point.savings),
            ]
        )
        start = index + 1
    return rows


def overall_floor_rows(floors: FloorCalibrations) -> list[list[TableCell]]:
    """The traffic-weighted totals at each floor of the savings curve."""
    rows: list[list[TableCell]] = []
    for floor in FLOORS:
        calibration = floors.at(floor)
        if calibration is None:
            continue
        kept = calibration.quality_fraction
        rows.append(
            [
                _floor_range(floor, floor),
                format_usd(calibration.expected_cost_per_1k_usd),
                format_usd(calibration.baseline_cost_per_1k_usd),
                share_text(calibration.savings_fraction),
                NO_VALUE if kept is None else f"{kept:.0%}",
            ]
        )
    return rows
