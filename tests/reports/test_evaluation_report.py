"""The report built from results made in code: HTML and Markdown agree, every part is there, and the
report says plainly when it cannot compare or calibrate."""

from __future__ import annotations

import base64
import re

import pytest

from interlock.evaluation import ItemResult, Results, ResultsHeader, calibrate
from interlock.reports import ReportOptions, build_evaluation_report, savings_curve
from interlock.reports.savings_curve import FLOORS
from reports.sample_results import build_results

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
QUALITY = {
    "frontier": {"classification": 0.9, "extraction": 0.9},
    "open": {"classification": 0.9, "extraction": 0.5},
}
COST = {"frontier": 0.010, "open": 0.0005}
MONEY = re.compile(r"-?\$[0-9][0-9,]*(?:\.[0-9]+)?")


def results():
    return build_results(QUALITY, COST)


def images(page: str) -> dict[str, bytes]:
    found = re.findall(r'<figure id="([^"]+)"><img alt="[^"]*" src="data:image/png;base64,([^"]+)"', page)
    return {figure: base64.b64decode(data) for figure, data in found}


def test_html_is_self_contained_with_per_task_charts_and_tables(tmp_path):
    report = build_evaluation_report(
        results(), ReportOptions(open_models={"open"}, requests_per_month=100_000)
    )
    html_path, md_path = report.write(tmp_path / "report.html")
    page = html_path.read_text()
    charts = images(page)
    assert set(charts) == {
        "pareto-chart",
        "savings-chart",
        "quality-chart",
        "latency-chart",
        *(
            f"task-{task}-{kind}"
            for task in ("extraction", "classification")
            for kind in ("pareto", "savings")
        ),
    }
    assert all(png.startswith(PNG_MAGIC) and len(png) > 5_000 for png in charts.values())
    assert not re.search(r'(src|href)="(?!data:)', page)  # nothing to fetch
    assert "<script" not in page and "<link" not in page
    for section in (
        "overview",
        "per-task",
        "task-extraction",
        "task-classification",
        "method",
        "routes-section",
    ):
        assert f'<section id="{section}">' in page
    assert '<table id="task-extraction-floors">' in page and '<table id="quality-by-category">' in page
    assert "<td><strong>0.90 [0.77, 0.96]</strong></td>" in page  # best per task in bold, Wilson CI
    assert 'class="warning"' not in page and 'class="no-chart"' not in page
    assert md_path.name == "report.md"


def test_markdown_and_html_show_the_same_money():
    report = build_evaluation_report(
        results(), ReportOptions(open_models={"open"}, requests_per_month=100_000)
    )
    amounts = MONEY.findall(report.markdown)
    assert "$10.00" in amounts and "$0.50" in amounts  # cost per 1,000 requests of each model
    assert all(amount in report.html for amount in amounts)
    for text in (report.html, report.markdown):
        assert not re.search(r"\$\d+\.\d{5,}", text) and "$0.000" not in text


def test_headline_and_routes_come_from_calibration():
    options = ReportOptions(open_models={"open"}, requests_per_month=100_000)
    report = build_evaluation_report(results(), options)
    calibration = calibrate(results(), 0.95, open_models={"open"})
    saved = calibration.savings_fraction
    assert saved is not None and saved > 0.3  # classification moves to open: same quality, 5% of the cost
    assert report.headline.startswith("At a quality floor of 95%")
    assert f"cutting spend by {saved:.0%} against sending everything to frontier" in report.headline
    assert f"> {report.headline}" in report.markdown
    route = calibration.routes["classification"]
    assert route.model == "open"
    assert "| classification | open | 0.90 | $0.50 | frontier | 0.90 | $10.00 | 50% |" in report.markdown


def test_savings_curve_table_follows_the_floors():
    report = build_evaluation_report(results(), ReportOptions())
    # classification: open matches frontier, so every floor up to some point routes it there
    rows = re.findall(
        r"\| ([0-9.]+%(?: to [0-9.]+%)?) \| ([^|]+) \| ([0-9.]+) \| ([^|]+) \| ([^|]+) \|", report.markdown
    )
    assert rows, report.markdown
    floors_seen = [row[0] for row in rows]
    assert floors_seen[0].startswith(f"{FLOORS[0]:.0%}")
    assert any(row[1].strip() == "open" and row[4].strip() == "95%" for row in rows)


def test_single_model_warning_instead_of_savings():
    alone = build_results({"frontier": QUALITY["frontier"]}, COST)
    report = build_evaluation_report(alone)
    assert '<div class="warning" role="alert" id="single-model-warning">' in report.html
    assert "> **Warning: No comparison is possible.** Only one model (frontier) has scored results" in (
        report.markdown
    )
    assert report.headline.startswith("Only one model has scored results: no substitution can be judged")
    assert 'id="savings-chart"' in report.html and '<figure id="savings-chart">' not in report.html
    assert "savings cannot be measured" in report.markdown
    for task in ("extraction", "classification"):
        assert f'<p class="no-chart" id="task-{task}-savings">' in report.html
        assert f'<figure id="task-{task}-pareto">' in report.html  # one point is still a measurement


def test_unusable_mix_gives_notes_not_a_crash():
    report = build_evaluation_report(results(), ReportOptions(mix={"translation": 1.0}))
    assert report.headline.startswith("Routes could not be calibrated from these results:")
    assert "no weight" in report.headline
    assert '<p class="no-chart" id="savings-chart">' in report.html
    assert "Routes could not be calibrated" in report.markdown
    assert '<figure id="pareto-chart">' in report.html  # what does not need calibration is still there


def test_report_without_costs_says_so():
    unpriced = build_results(QUALITY, dict.fromkeys(QUALITY, None), items=10)
    report = build_evaluation_report(unpriced)
    assert '<p class="no-chart" id="pareto-chart">' in report.html
    assert '<figure id="pareto-chart">' not in report.html
    assert "No model has both a measured cost and a quality score" in report.markdown


def test_method_section_describes_this_evaluation():
    report = build_evaluation_report(build_results(QUALITY, COST, items=12))
    method = report.markdown.split("## Method", 1)[1]
    for phrase in (
        "Quality:",
        "Intervals:",
        "Cost:",
        "Baseline: frontier",
        "Quality floor:",
        "Savings curve:",
    ):
        assert phrase in method
    assert (
        "Each model was scored on 12 items per task." in method
        and "The widest quality interval is about ±" in method
    )
    assert "not evidence that one model is better" in method  # 12 items is a small sample
    assert '<p id="method-limits">Limits:' in report.html


@pytest.mark.parametrize("target", [0.9, 0.93])
def test_calibration_calls_are_few(monkeypatch, target):
    calls = []
    real = savings_curve.calibrate

    def counted(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(savings_curve, "calibrate", counted)
    build_evaluation_report(results(), ReportOptions(target=target))
    assert sorted(calls) == sorted(
        {*FLOORS, target}
    )  # the report's own floor is reused when it is on the curve


def test_nothing_scored_gives_notes_and_no_empty_charts():
    failed = Results(
        header=ResultsHeader(suite="s", models=["a", "b"]),
        items=[ItemResult(item_id="1", model=m, category="code", error="timeout") for m in ("a", "b")],
    )
    report = build_evaluation_report(failed)
    assert report.headline.startswith("No model has scored results")
    assert "<img" not in report.html  # every chart replaced by its note
    notes = re.findall(r'<p class="no-chart" id="([^"]+)">', report.html)
    assert set(notes) >= {"pareto-chart", "savings-chart", "latency-chart", "quality-chart"}
    assert "(not drawn): No model has a scored item" in report.markdown
