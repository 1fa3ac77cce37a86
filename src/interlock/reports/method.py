"""The report's Method section: how quality and cost were measured and what the curves mean.

The sentences that depend on the data (sample sizes, the baseline, the floors) are filled in
from it, so the section describes this evaluation, not evaluations in general.
"""

from __future__ import annotations

from interlock.evaluation.stats import Cell, Summary
from interlock.reports.blocks import Block, Bullets, Paragraph
from interlock.reports.options import ReportOptions
from interlock.reports.savings_curve import FLOORS

SMALL_SAMPLE = 30  # below this many scored items per model and task, intervals are wide (±0.17 or more)


def _task_cells(summary: Summary) -> list[Cell]:
    return [
        cell
        for model in summary.models
        for category in summary.categories
        if (cell := summary.cell(model, category)) is not None
    ]


def _width(cell: Cell) -> float:
    return cell.interval.high - cell.interval.low if cell.interval is not None else 0.0


def limits(summary: Summary) -> str:
    """Sample sizes and the widest interval of this evaluation, and what they allow one to conclude."""
    cells = [cell for cell in _task_cells(summary) if cell.n > 0]
    if not cells:
        return "No item was scored, so nothing in this report is a measurement."
    low, high = min(c.n for c in cells), max(c.n for c in cells)
    counted = f"{low}" if low == high else f"between {low} and {high}"
    widest = max(cells, key=_width)
    text = (
        f"Each model was scored on {counted} items per task. The widest quality interval is about "
        f"±{_width(widest) / 2:.2f} ({widest.model} on {widest.category.replace('_', ' ')}); four times "
        "the items would roughly halve it."
    )
    if low < SMALL_SAMPLE:
        text += (
            " With samples this small, differences smaller than the intervals are not evidence that one "
            "model is better, and calibration may keep a task on the baseline for lack of evidence."
        )
    return (
        text + " Costs are those of the suite's prompts; traffic with longer prompts or answers costs more."
    )


def method_blocks(summary: Summary, options: ReportOptions, baseline: str) -> list[Block]:
    baseline_rule = (
        f"Baseline: {baseline}, named for this report."
        if options.baseline is not None
        else f"Baseline: {baseline}, the model with the best overall quality; sending all traffic to it "
        "(all-frontier) is what routing is measured against."
    )
    floors = f"{FLOORS[0]:.0%} to {FLOORS[-1]:.0%} in steps of {FLOORS[1] - FLOORS[0]:.1%}"
    return [
        Bullets(
            [
                (
                    "Quality: each item's answer is scored from 0 to 1 by the suite's scorer for that item "
                    "(exact or label match, JSON fields, code run against tests, or a judge model). A "
                    "model's quality on a task is the mean score over the items it answered; calls that "
                    "failed are counted as failed, not as zeros."
                ),
                (
                    "Intervals: 95% confidence intervals, Wilson score intervals when every score is 0 or 1, "
                    "otherwise a percentile bootstrap of the mean (seeded, so reruns match)."
                ),
                (
                    "Cost: every request's cost was measured during the evaluation, as the gateway priced "
                    "that call from its token usage. Cost per 1,000 requests is a model's mean cost per "
                    "request on a task times 1,000."
                ),
                baseline_rule
                + " Where the baseline has no score on a task, that task's best model stands in.",
                (
                    "Tasks are the suite's categories; each has its own section with its quality-cost chart "
                    "and savings curve."
                ),
                (
                    "Quality floor: the minimum quality a task's route must keep, as a share of the "
                    "baseline's quality on that task. Calibration gives each task the cheapest way to keep "
                    "it: a cheaper model, a split of the task's traffic between a cheaper model and the "
                    "baseline, or the baseline alone. Whether a cheaper route keeps the floor is judged "
                    "on the items both models answered, with the confidence calibration requires, so a "
                    "model whose mean score is just above the floor may still not qualify."
                ),
                (
                    f"Savings curve: for floors from {floors}, the share of the baseline's cost on a task "
                    "that the routing policy saves. The overall curve weighs tasks by "
                    f"{options.mix_source}. Between the floors shown the curve is not measured."
                ),
            ]
        ),
        Paragraph("Limits: " + limits(summary), element_id="method-limits"),
    ]
