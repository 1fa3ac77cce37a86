"""The evaluation report: one self-contained HTML file (charts inlined) and a Markdown summary.

Content comes from ``interlock.evaluation`` (summary statistics, comparisons, calibration at a
range of quality floors); this module only puts the parts in order. The statistics are summarised
once and every chart and table reads that one summary.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from interlock.evaluation.results import Results
from interlock.evaluation.stats import Summary, compare_to_best, summarize
from interlock.reports.blocks import Block, Bullets, ChartBlock, ChartRow, Paragraph, Section, Table
from interlock.reports.charts import latency_chart, pareto_chart, quality_by_category_chart, task_label
from interlock.reports.headline import (
    baseline_name,
    calibration_refused_line,
    scored_models,
    single_model_warning,
    substitution_line,
    too_few_models,
)
from interlock.reports.method import method_blocks
from interlock.reports.model_styles import model_styles
from interlock.reports.options import ReportOptions
from interlock.reports.plotting import Chart, NoChart
from interlock.reports.savings_chart import savings_chart
from interlock.reports.savings_curve import FloorCalibrations, calibrate_floors
from interlock.reports.tables import (
    MODEL_HEADERS,
    OVERALL_FLOOR_HEADERS,
    ROUTE_HEADERS,
    category_rows,
    model_rows,
    overall_floor_rows,
    route_rows,
)
from interlock.reports.task_section import task_section

__all__ = ["EvaluationReport", "ReportOptions", "build_evaluation_report", "substitution_line"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;color:#1d2430;
padding:0 1rem}
h1{font-size:1.6rem}
h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #dde}
h3{font-size:1.05rem;margin-top:1.6rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
th,td{border:1px solid #ccd;padding:.3rem .6rem;text-align:left}
th{background:#f1f4f9}
.headline{background:#eef5ee;border-left:4px solid #3a9a5b;padding:.8rem 1rem}
.warning{background:#fff4e5;border:2px solid #d9822b;border-radius:4px;padding:.8rem 1rem;margin:1rem 0}
.no-chart{color:#556;font-style:italic;border-left:3px solid #ccd;padding-left:.6rem}
figure{margin:1rem 0}
.chart-row{display:flex;flex-wrap:wrap;gap:0 1.5rem;align-items:flex-start}
.chart-row>figure,.chart-row>p{flex:1 1 440px}
figcaption{font-size:.85rem;color:#556}
img{max-width:100%}
"""


@dataclass(frozen=True)
class EvaluationReport:
    html: str
    markdown: str
    headline: str

    def write(self, html_path: str | Path) -> tuple[Path, Path]:
        """Write the HTML file and, beside it, the Markdown summary (same name, ``.md``)."""
        target = Path(html_path)
        markdown_path = target.with_suffix(".md")
        target.write_text(self.html, encoding="utf-8")
        markdown_path.write_text(self.markdown, encoding="utf-8")
        return target, markdown_path


def _overall_savings_chart(summary: Summary, floors: FloorCalibrations, options: ReportOptions) -> Chart:
    if (count := len(scored_models(summary))) < 2:
        return NoChart(f"{too_few_models(count)}: savings cannot be measured.")
    points = floors.overall_savings()
    if not points:
        refusal = floors.first_refusal
        if refusal is not None:
            return NoChart(calibration_refused_line(refusal))
        return NoChart("The baseline costs nothing or some costs are unknown, so savings cannot be computed.")
    baseline = baseline_name(floors.at(points[0][0]), options)
    return savings_chart(points, baseline=baseline, target=options.target)


def _overview(summary: Summary, floors: FloorCalibrations, options: ReportOptions) -> list[Block]:
    styles = model_styles(summary.models)
    blocks: list[Block] = [
        Table("models", MODEL_HEADERS, model_rows(summary)),
        ChartRow(
            [
                ChartBlock(
                    "pareto-chart",
                    pareto_chart(summary, styles=styles),
                    "All tasks: quality against cost per 1,000 requests, Pareto frontier outlined",
                ),
                ChartBlock(
                    "savings-chart",
                    _overall_savings_chart(summary, floors, options),
                    f"All tasks, weighted by {options.mix_source}: share of the baseline's cost saved at "
                    "each quality floor",
                ),
            ]
        ),
    ]
    if len(scored_models(summary)) > 1 and floors.overall_savings():
        blocks.append(Table("overall-floors", OVERALL_FLOOR_HEADERS, overall_floor_rows(floors)))
    blocks.append(ChartBlock("latency-chart", latency_chart(summary), "Latency p50 and p95 per model"))
    return blocks


def _routes(floors: FloorCalibrations, options: ReportOptions) -> list[Block]:
    calibration = floors.at(options.target)
    if calibration is None:
        return [Paragraph(calibration_refused_line(floors.refused.get(options.target, "unknown reason")))]
    return [Table("routes", ROUTE_HEADERS, route_rows(calibration))]


def _sections(results: Results, summary: Summary, options: ReportOptions) -> tuple[str, list[Block]]:
    """The headline and the report's parts, in reading order."""
    floors = calibrate_floors(results, options)
    styles = model_styles(summary.models)
    chosen = floors.at(options.target)
    single = single_model_warning(summary)
    if single is not None:
        headline = (
            f"{too_few_models(len(scored_models(summary)))}: no substitution can be judged and no savings "
            "measured."
        )
    elif chosen is None:
        headline = calibration_refused_line(floors.refused.get(options.target, "unknown reason"))
    else:
        headline = substitution_line(chosen, options)
    comparisons = [
        f"{task_label(c.category)}: {c.sentence()}"
        for category in summary.categories
        for c in compare_to_best(summary, category)
    ]
    blocks: list[Block] = [] if single is None else [single]
    blocks += [
        Paragraph(headline, element_id="substitution", css_class="headline"),
        Section("overview", "All tasks", _overview(summary, floors, options)),
        Section(
            "per-task",
            "Per task",
            [task_section(c, summary, floors, styles, options.target) for c in summary.categories],
        ),
        Section(
            "quality",
            "Quality per category",
            [
                Table("quality-by-category", ["category", *summary.models], category_rows(summary)),
                ChartBlock(
                    "quality-chart", quality_by_category_chart(summary, styles), "Quality per task (95% CI)"
                ),
            ],
        ),
        Section("comparisons", "Against the best model", [Bullets(comparisons or ["(one model only)"])]),
        Section(
            "routes-section", f"Routes at a quality floor of {options.target:.0%}", _routes(floors, options)
        ),
        Section("method", "Method", method_blocks(summary, options, baseline_name(chosen, options))),
    ]
    return headline, blocks


def build_evaluation_report(results: Results, options: ReportOptions | None = None) -> EvaluationReport:
    options = options or ReportOptions()
    summary = summarize(results)
    headline, blocks = _sections(results, summary, options)
    title = options.title or f"Evaluation report: {results.header.suite}"
    generated = datetime.now(UTC).isoformat(timespec="seconds")
    meta = (
        f"Suite {results.header.suite} v{results.header.suite_version}; models: {', '.join(summary.models)}; "
        f"{len(results.items)} results; generated {generated}."
    )
    page = "".join(
        [
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
            f"<h1>{html.escape(title)}</h1><p>{html.escape(meta)}</p>",
            *(block.to_html() for block in blocks),
            "</body></html>",
        ]
    )
    parts = [f"# {title}", meta, *(block.to_markdown() for block in blocks)]
    markdown = "\n\n".join(part for part in parts if part) + "\n"
    return EvaluationReport(html=page, markdown=markdown, headline=headline)
