"""The charts as matplotlib figures: axes from zero, log cost only for wide spreads, 16 models told apart,
and a note instead of an empty chart."""

from __future__ import annotations

from itertools import pairwise

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from interlock.evaluation import ItemResult, Results, ResultsHeader
from interlock.evaluation.stats import summarize
from interlock.reports.charts import latency_chart, pareto_chart, quality_by_category_chart
from interlock.reports.model_styles import model_styles
from interlock.reports.plotting import NoChart
from interlock.reports.savings_chart import savings_chart
from reports.sample_results import build_results

TASKS = ("extraction", "classification")


def summary_for(costs: dict[str, float | None], quality: float = 0.8):
    return summarize(build_results({m: dict.fromkeys(TASKS, quality) for m in costs}, costs, items=10))


def only_axes(chart):
    assert isinstance(chart, Figure), chart
    [axes] = chart.axes
    return axes


def test_cost_and_quality_axes_start_at_zero():
    axes = only_axes(pareto_chart(summary_for({"a": 0.004, "b": 0.0002})))  # 20x: linear
    assert axes.get_xscale() == "linear" and axes.get_xlim()[0] == 0
    assert axes.get_ylim()[0] == 0 and axes.get_ylim()[1] >= 1
    assert axes.get_xlabel() == "cost per 1,000 requests (USD)"
    for chart in (
        quality_by_category_chart(summary_for({"a": 0.01})),
        latency_chart(summary_for({"a": 0.01})),
    ):
        axes = only_axes(chart)
        assert min(axes.get_ylim() if axes.get_xlabel() != "latency (ms)" else axes.get_xlim()) == 0


def test_cost_axis_is_logarithmic_only_beyond_a_hundredfold_spread_and_says_so():
    wide = only_axes(pareto_chart(summary_for({"a": 0.02, "b": 0.0001})))  # 200x
    assert wide.get_xscale() == "log" and "log scale" in wide.get_xlabel()
    assert wide.get_xlim()[0] > 0
    narrow = only_axes(pareto_chart(summary_for({"a": 0.009, "b": 0.0001})))  # 90x
    assert narrow.get_xscale() == "linear" and "log" not in narrow.get_xlabel()
    free = only_axes(pareto_chart(summary_for({"a": 0.02, "b": 0.0})))  # a free model: log cannot show $0
    assert free.get_xscale() == "linear" and free.get_xlim()[0] == 0


def test_money_tick_labels_are_rounded():
    axes = only_axes(pareto_chart(summary_for({"a": 0.0123, "b": 0.00045})))
    FigureCanvasAgg(axes.figure).draw()
    labels = [t.get_text() for t in axes.get_xticklabels() if t.get_text()]
    assert labels and all(label.startswith("$") and len(label) <= 8 for label in labels), labels


def test_no_data_gives_a_note_not_an_empty_chart():
    unpriced = summary_for({"a": None, "b": None})
    assert isinstance(pareto_chart(unpriced), NoChart)
    assert "measured cost" in pareto_chart(unpriced).note
    failed = Results(
        header=ResultsHeader(suite="s", models=["a"]),
        items=[ItemResult(item_id="1", model="a", category="code", error="timeout")],
    )
    summary = summarize(failed)
    assert isinstance(quality_by_category_chart(summary), NoChart)
    assert isinstance(latency_chart(summary), NoChart)
    assert isinstance(pareto_chart(summary), NoChart)
    assert isinstance(savings_chart([], baseline="a"), NoChart)


def test_savings_curve_runs_from_zero_to_all_and_names_route_changes():
    points = [(0.8, 0.9), (0.9, 0.9), (0.95, 0.4), (1.0, 0.0)]
    axes = only_axes(
        savings_chart(points, baseline="big", target=0.95, routes=["small", "small", "mid", "big"])
    )
    assert axes.get_ylim() == (0, 1.0)
    assert 0 < axes.get_xlim()[0] <= 0.8 and axes.get_xlim()[1] >= 1.0
    assert axes.get_xlabel() == "quality floor (share of big's quality)"
    assert [text.get_text() for text in axes.texts] == ["small", "mid", "big"]


def test_sixteen_models_stay_distinguishable():
    models = [f"model-{k:02d}" for k in range(16)]
    styles = model_styles(models)
    assert len({(s.colour, s.marker) for s in styles.values()}) == 16
    assert len({(s.colour, s.hatch) for s in styles.values()}) == 16  # bars have no marker
    neighbours = list(styles.values())
    assert all(a.colour != b.colour and a.marker != b.marker for a, b in pairwise(neighbours))

    costs = {m: 0.001 * (k + 1) for k, m in enumerate(models)}
    summary = summarize(
        build_results(
            {m: dict.fromkeys(TASKS, 0.3 + 0.04 * k) for k, m in enumerate(models)}, costs, items=10
        )
    )
    axes = only_axes(pareto_chart(summary))
    drawn = [c for c in axes.collections if c.get_label() in models]
    assert len(drawn) == 16
    looks = {
        (tuple(c.get_facecolor()[0].round(3)), tuple(c.get_paths()[0].vertices.round(3).flatten()))
        for c in drawn
    }
    assert len(looks) == 16
    legend = axes.get_legend()
    assert [t.get_text() for t in legend.get_texts()][:16] == models
    canvas = FigureCanvasAgg(axes.figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    # crowded: the legend sits to the right of the plot area instead of over the points
    assert legend.get_window_extent(renderer).x0 >= axes.get_window_extent(renderer).x1


@pytest.mark.parametrize("count", [2, 5])
def test_few_models_keep_the_legend_inside(count):
    costs = {f"m{k}": 0.001 * (k + 1) for k in range(count)}
    axes = only_axes(pareto_chart(summary_for(costs)))
    canvas = FigureCanvasAgg(axes.figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    assert axes.get_window_extent(renderer).contains(*axes.get_legend().get_window_extent(renderer).p0)
