"""One task's part of the report: its models, its quality-cost chart, and its savings curve.

The savings curve is replaced by a sentence whenever it would mislead: one model only, a baseline
that costs nothing or was not priced, or calibration refusing the input.
"""

from __future__ import annotations

from interlock.evaluation.stats import Summary
from interlock.reports.blocks import Block, ChartBlock, ChartRow, Paragraph, Section, Table
from interlock.reports.charts import pareto_chart, task_label
from interlock.reports.headline import scored_models, too_few_models
from interlock.reports.model_styles import ModelStyle
from interlock.reports.money import format_usd
from interlock.reports.plotting import Chart, NoChart
from interlock.reports.savings_chart import savings_chart
from interlock.reports.savings_curve import FloorCalibrations, FloorPoint
from interlock.reports.tables import FLOOR_HEADERS, TASK_MODEL_HEADERS, floor_rows, model_rows


def task_anchor(category: str) -> str:
    return "task-" + category.replace("_", "-")


def task_savings_chart(
    category: str, points: list[FloorPoint], summary: Summary, floors: FloorCalibrations, target: float
) -> Chart:
    if not points and floors.first_refusal is not None:
        return NoChart(f"Calibration refused these results: {floors.first_refusal}")
    if (count := len(scored_models(summary, category))) < 2:
        return NoChart(f"{too_few_models(count)} on this task: there is nothing to route to, so no savings.")
    if not points:
        return NoChart("Calibration produced no route for this task.")
    baseline, baseline_cost = points[0].baseline_model, points[0].baseline_cost_per_1k_usd
    if baseline_cost is None:
        return NoChart(f"{baseline}'s cost on this task was not measured, so savings cannot be computed.")
    if baseline_cost == 0:
        return NoChart(f"{baseline} costs nothing on this task, so there is no spend to save.")
    measured = [p for p in points if p.savings is not None]
    if not measured:
        return NoChart("The routed models' costs were not measured, so savings cannot be computed.")
    return savings_chart(
        [(p.floor, p.savings) for p in measured if p.savings is not None],
        baseline=baseline,
        target=target,
        routes=[p.model if p.route == p.model else None for p in measured],
    )


def _task_sentence(category: str, summary: Summary, points: list[FloorPoint], target: float) -> str:
    scored = scored_models(summary, category)
    best = max(scored, key=lambda m: summary.cells[(m, category)].quality or 0.0, default=None)
    if best is None:
        return f"No model has a scored item on {task_label(category)}."
    cell = summary.cells[(best, category)]
    count = "One model was" if len(scored) == 1 else f"{len(scored)} models were"
    sentence = (
        f"{count} scored on {task_label(category)}; the best is {best} "
        f"(quality {cell.quality:.2f}, {format_usd(cell.cost_per_1k_usd)} per 1,000 requests)."
    )
    at_target = next((p for p in points if p.floor == target), None)
    if len(scored) > 1 and at_target is not None and at_target.savings is not None:
        sentence += (
            f" At the report's floor of {target:.0%} the task goes to {at_target.route}, "
            f"saving {at_target.savings:.0%} of {at_target.baseline_model}'s cost."
        )
    return sentence


def task_section(
    category: str,
    summary: Summary,
    floors: FloorCalibrations,
    styles: dict[str, ModelStyle],
    target: float,
) -> Section:
    anchor = task_anchor(category)
    points = floors.task_points(category)
    label = task_label(category)
    blocks: list[Block] = [
        Paragraph(_task_sentence(category, summary, points, target)),
        Table(f"{anchor}-models", TASK_MODEL_HEADERS, model_rows(summary, category)),
        ChartRow(
            [
                ChartBlock(
                    f"{anchor}-pareto",
                    pareto_chart(summary, category, styles),
                    f"{label}: quality against cost per 1,000 requests, Pareto frontier outlined",
                ),
                ChartBlock(
                    f"{anchor}-savings",
                    task_savings_chart(category, points, summary, floors, target),
                    f"{label}: share of the baseline's cost saved at each quality floor",
                ),
            ]
        ),
    ]
    if points and len(scored_models(summary, category)) > 1:
        blocks.append(Table(f"{anchor}-floors", FLOOR_HEADERS, floor_rows(points)))
    return Section(anchor, f"Task: {label}", blocks, level=3)
