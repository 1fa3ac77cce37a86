"""Charts for the evaluation report, drawn with matplotlib's object API and returned as PNG data URIs.

No pyplot: figures are built and rendered directly, so nothing global (backends, open figures)
is touched and the HTML that embeds them needs no network.
"""

from __future__ import annotations

import base64
import io

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from interlock.evaluation.stats import OVERALL, Summary, pareto_frontier, quality_cost_points

_PALETTE = ["#2f6db5", "#e08a2c", "#3a9a5b", "#b8433f", "#7b5aa6", "#8c6d46", "#d16ba5", "#5f6b7a"]


def _data_uri(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def quality_by_category_chart(summary: Summary) -> str:
    """Grouped bars: quality per category per model, with the confidence interval as error bars."""
    categories = summary.categories
    width = 0.8 / max(1, len(summary.models))
    figure = Figure(figsize=(max(6.0, 1.3 * len(categories) + 2), 3.8))
    axes = figure.add_subplot()
    for index, model in enumerate(summary.models):
        xs, heights, lower, upper = [], [], [], []
        for position, category in enumerate(categories):
            cell = summary.cell(model, category)
            if cell is None or cell.quality is None or cell.interval is None:
                continue
            xs.append(position + (index - (len(summary.models) - 1) / 2) * width)
            heights.append(cell.quality)
            lower.append(max(0.0, cell.quality - cell.interval.low))
            upper.append(max(0.0, cell.interval.high - cell.quality))
        axes.bar(
            xs,
            heights,
            width,
            yerr=[lower, upper],
            capsize=3,
            label=model,
            color=_PALETTE[index % len(_PALETTE)],
        )
    axes.set_xticks(
        range(len(categories)), [c.replace("_", " ") for c in categories], rotation=20, ha="right"
    )
    axes.set_ylim(0, 1.05)
    axes.set_ylabel("quality (mean score)")
    axes.legend(fontsize=8, frameon=False)
    axes.grid(axis="y", alpha=0.3)
    return _data_uri(figure)


def pareto_chart(summary: Summary, category: str = OVERALL) -> str | None:
    """Quality against cost per 1,000 requests; the frontier joined by a line. None without costs."""
    points = quality_cost_points(summary, category)
    if not points:
        return None
    frontier = pareto_frontier(points)
    figure = Figure(figsize=(6.0, 4.0))
    axes = figure.add_subplot()
    for index, (model, (cost, quality)) in enumerate(points.items()):
        on_frontier = model in frontier
        axes.scatter(
            [cost],
            [quality],
            s=60 if on_frontier else 35,
            color=_PALETTE[index % len(_PALETTE)],
            edgecolors="black" if on_frontier else "none",
            zorder=3,
        )
        axes.annotate(model, (cost, quality), textcoords="offset points", xytext=(6, 4), fontsize=8)
    axes.plot(
        [points[m][0] for m in frontier],
        [points[m][1] for m in frontier],
        color="#555",
        linestyle="--",
        linewidth=1,
        zorder=2,
        label="Pareto frontier",
    )
    costs = [cost for cost, _ in points.values()]
    if min(costs) > 0 and max(costs) / min(costs) > 20:
        axes.set_xscale("log")
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"${value:g}"))
    axes.set_xlabel("cost per 1,000 requests (USD)")
    axes.set_ylabel("quality")
    axes.set_ylim(0, 1.05)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8, frameon=False, loc="lower right")
    return _data_uri(figure)


def latency_chart(summary: Summary) -> str:
    """p50 and p95 latency per model."""
    models = [m for m in summary.models if (c := summary.cell(m)) and c.latency_p50_ms is not None]
    figure = Figure(figsize=(6.0, 0.5 * len(models) + 1.5))
    axes = figure.add_subplot()
    p50 = [summary.cells[(m, OVERALL)].latency_p50_ms or 0.0 for m in models]
    p95 = [summary.cells[(m, OVERALL)].latency_p95_ms or 0.0 for m in models]
    positions = list(range(len(models)))
    axes.barh([p + 0.2 for p in positions], p95, 0.4, label="p95", color="#c9d6ea")
    axes.barh([p - 0.2 for p in positions], p50, 0.4, label="p50", color="#2f6db5")
    axes.set_yticks(positions, models)
    axes.invert_yaxis()
    axes.set_xlabel("latency (ms)")
    axes.legend(fontsize=8, frameon=False)
    axes.grid(axis="x", alpha=0.3)
    return _data_uri(figure)
