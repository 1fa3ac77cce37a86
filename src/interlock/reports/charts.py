"""Charts drawn from the summary statistics: quality per task, quality against cost, latency.

Each returns a matplotlib ``Figure``, or a ``NoChart`` with the sentence to show when there is
nothing to draw; turning figures into images is the page's business.
"""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from interlock.evaluation.stats import OVERALL, Summary, pareto_frontier, quality_cost_points
from interlock.reports.model_styles import ModelStyle, model_styles
from interlock.reports.plotting import Chart, NoChart, cost_x_axis, place_legend, quality_y_axis

NAMED_POINTS = 6  # up to this many models the Pareto points carry their names; beyond, the legend does


def task_label(category: str) -> str:
    return category.replace("_", " ")


def quality_by_category_chart(summary: Summary, styles: dict[str, ModelStyle] | None = None) -> Chart:
    """Grouped bars: quality per task per model, with the confidence interval as error bars."""
    styles = styles or model_styles(summary.models)
    categories = summary.categories
    scored = [
        m
        for m in summary.models
        if any((c := summary.cell(m, k)) and c.quality is not None for k in categories)
    ]
    if not scored:
        return NoChart("No model has a scored item, so there is no quality to chart.")
    width = 0.8 / len(scored)
    figure = Figure(figsize=(max(6.0, 0.9 * len(categories) + 0.12 * len(categories) * len(scored) + 2), 3.8))
    axes = figure.add_subplot()
    for index, model in enumerate(scored):
        xs, heights, lower, upper = [], [], [], []
        for position, category in enumerate(categories):
            cell = summary.cell(model, category)
            if cell is None or cell.quality is None or cell.interval is None:
                continue
            xs.append(position + (index - (len(scored) - 1) / 2) * width)
            heights.append(cell.quality)
            lower.append(max(0.0, cell.quality - cell.interval.low))
            upper.append(max(0.0, cell.interval.high - cell.quality))
        style = styles[model]
        axes.bar(
            xs,
            heights,
            width,
            yerr=[lower, upper],
            capsize=2 if len(scored) > 6 else 3,
            label=model,
            color=style.colour,
            hatch=style.hatch,
            edgecolor="white" if not style.hatch else "#333",
            linewidth=0.5,
        )
    axes.set_xticks(range(len(categories)), [task_label(c) for c in categories], rotation=20, ha="right")
    quality_y_axis(axes)
    axes.grid(axis="y", alpha=0.3)
    place_legend(axes, len(scored))
    return figure


def pareto_chart(
    summary: Summary, category: str = OVERALL, styles: dict[str, ModelStyle] | None = None
) -> Chart:
    """Quality against cost per 1,000 requests, the frontier outlined and joined by a dashed line."""
    styles = styles or model_styles(summary.models)
    points = quality_cost_points(summary, category)
    if not points:
        where = "overall" if category == OVERALL else f"on {task_label(category)}"
        return NoChart(
            f"No model has both a measured cost and a quality score {where}: no quality-cost chart."
        )
    frontier = pareto_frontier(points)
    figure = Figure(figsize=(6.4, 4.2))
    axes = figure.add_subplot()
    for model, (cost, quality) in points.items():
        on_frontier = model in frontier
        axes.scatter(
            [cost],
            [quality],
            s=75 if on_frontier else 45,
            marker=styles[model].marker,
            color=styles[model].colour,
            edgecolors="black" if on_frontier else "none",
            linewidths=1.3,
            label=model,
            zorder=3,
            clip_on=False,  # a point at $0 or quality 1 sits on the axis edge; keep it whole
        )
        if len(points) <= NAMED_POINTS:
            axes.annotate(model, (cost, quality), textcoords="offset points", xytext=(6, 4), fontsize=8)
    axes.plot(
        [points[m][0] for m in frontier],
        [points[m][1] for m in frontier],
        color="#555",
        linestyle="--",
        linewidth=1,
        zorder=2,
    )
    cost_x_axis(axes, [cost for cost, _ in points.values()])
    quality_y_axis(axes)
    axes.grid(alpha=0.3)
    handles, _ = axes.get_legend_handles_labels()
    frontier_key = Line2D(
        [], [], color="#555", linestyle="--", marker="o", markerfacecolor="none", markeredgecolor="black"
    )
    labels = [*points, "Pareto frontier (outlined)"]
    place_legend(axes, len(labels), [*handles, frontier_key], labels, inside="lower right")
    return figure


def latency_chart(summary: Summary) -> Chart:
    """p50 and p95 latency per model."""
    models = [m for m in summary.models if (c := summary.cell(m)) and c.latency_p50_ms is not None]
    if not models:
        return NoChart("No latency was recorded, so there is no latency chart.")
    figure = Figure(figsize=(6.0, 0.45 * len(models) + 1.5))
    axes = figure.add_subplot()
    p50 = [summary.cells[(m, OVERALL)].latency_p50_ms or 0.0 for m in models]
    p95 = [summary.cells[(m, OVERALL)].latency_p95_ms or 0.0 for m in models]
    positions = list(range(len(models)))
    axes.barh([p + 0.2 for p in positions], p95, 0.4, label="p95", color="#c9d6ea")
    axes.barh([p - 0.2 for p in positions], p50, 0.4, label="p50", color="#2f6db5")
    axes.set_yticks(positions, models)
    axes.invert_yaxis()
    axes.set_xlim(0, max(p95) * 1.08 if max(p95) > 0 else 1.0)
    axes.set_xlabel("latency (ms)")
    axes.legend(fontsize=8, frameon=False)
    axes.grid(axis="x", alpha=0.3)
    return figure
