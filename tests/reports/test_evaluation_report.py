import base64
import re

from interlock.evaluation import ItemResult, Results, ResultsHeader
from interlock.reports import ReportOptions, build_evaluation_report

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def results():
    quality = {
        "frontier": {"classification": 0.9, "extraction": 0.9},
        "open": {"classification": 0.9, "extraction": 0.5},
    }
    cost = {"frontier": 0.010, "open": 0.0005}
    items = [
        ItemResult(
            item_id=f"{category}-{i}",
            model=model,
            category=category,
            score=1.0 if i < round(q * 10) else 0.0,
            cost_usd=cost[model],
            latency_ms=100.0 + i,
        )
        for model, by_category in quality.items()
        for category, q in by_category.items()
        for i in range(10)
    ]
    return Results(header=ResultsHeader(suite="hand", models=list(quality)), items=items)


def test_html_is_self_contained_with_plots_and_tables(tmp_path):
    report = build_evaluation_report(
        results(), ReportOptions(open_models={"open"}, requests_per_month=100_000)
    )
    html_path, md_path = report.write(tmp_path / "report.html")
    page = html_path.read_text()
    images = re.findall(r'<img alt="[^"]*" src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 3 and all(base64.b64decode(image).startswith(PNG_MAGIC) for image in images)
    assert not re.search(r'(src|href)="(?!data:)', page)  # nothing to fetch
    assert '<table id="quality-by-category">' in page and '<figure id="pareto-chart">' in page
    assert "<td><strong>0.90 [0.60, 0.98]</strong></td>" in page  # best per category in bold, Wilson CI
    assert md_path.name == "report.md"


def test_substitution_line_and_markdown_summary():
    report = build_evaluation_report(
        results(), ReportOptions(open_models={"open"}, requests_per_month=100_000)
    )
    markdown = report.markdown
    # classification goes to open (same quality, 5% of the cost): half the traffic, half the spend saved
    assert (
        "> At a quality floor of 95% of the best model in each category, 50% of the workload (weighted by "
        "the suite's category mix) can move to open models (open), cutting spend by 48% against sending "
        "everything to frontier: about $475 a month at 100,000 requests, keeping 100% of its quality."
    ) in markdown
    assert "| classification | **0.90 [0.60, 0.98]** | **0.90 [0.60, 0.98]** |" in markdown
    assert "- extraction: open reaches 56% of frontier's quality at 5% of its cost" in markdown
    assert "| classification | open | 0.90 | $0.50 | frontier | 0.90 | $10.00 | 50% |" in markdown


def test_report_without_costs_says_so():
    plain = Results(
        header=ResultsHeader(suite="s", models=["a"]),
        items=[ItemResult(item_id="1", model="a", category="code", score=1.0, latency_ms=5.0)],
    )
    report = build_evaluation_report(plain)
    assert "savings cannot be computed because some costs are unknown" in report.markdown
    assert report.html.count("<img") == 2  # no cost, no Pareto plot
