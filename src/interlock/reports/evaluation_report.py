"""The evaluation report: one self-contained HTML file (charts inlined) and a Markdown summary.

Content comes from ``interlock.evaluation`` (summary statistics, comparisons, calibration); this
module only lays it out. Tables are built once as rows and rendered to both formats.
"""

from __future__ import annotations

import html
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from interlock.evaluation.calibration import Calibration, calibrate
from interlock.evaluation.results import Results
from interlock.evaluation.stats import (
    Cell,
    Summary,
    compare_to_best,
    pareto_frontier,
    quality_cost_points,
    summarize,
)
from interlock.reports.charts import latency_chart, pareto_chart, quality_by_category_chart


@dataclass(frozen=True, slots=True)
class Strong:
    """A table cell to emphasise (the best quality in a row)."""

    text: str


TableCell = str | Strong


@dataclass(frozen=True)
class ReportOptions:
    target: float = 0.95
    mix: Mapping[str, float] | None = None
    mix_source: str = "the suite's category mix"
    open_models: Collection[str] | None = None
    baseline: str | None = None
    requests_per_month: float | None = None
    title: str | None = None


@dataclass(frozen=True)
class EvaluationReport:
    html: str
    markdown: str

    def write(self, html_path: str | Path) -> tuple[Path, Path]:
        """Write the HTML file and, beside it, the Markdown summary (same name, ``.md``)."""
        target = Path(html_path)
        markdown_path = target.with_suffix(".md")
        target.write_text(self.html, encoding="utf-8")
        markdown_path.write_text(self.markdown, encoding="utf-8")
        return target, markdown_path


def _quality(cell: Cell | None) -> str:
    if cell is None or cell.quality is None or cell.interval is None:
        return "—"
    return f"{cell.quality:.2f} [{cell.interval.low:.2f}, {cell.interval.high:.2f}]"


def _money(value: float | None) -> str:
    """``$4.00``, ``$0.30``, ``$0.0004``: two decimals, more only when the value needs them."""
    if value is None:
        return "—"
    if value >= 1 or value == 0:
        return f"${value:,.2f}"
    digits = f"{value:.6f}".rstrip("0")
    return "$" + (digits if len(digits.split(".")[1]) >= 2 else f"{value:.2f}")


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f} ms"


def model_rows(summary: Summary) -> list[list[TableCell]]:
    frontier = set(pareto_frontier(quality_cost_points(summary)))
    rows: list[list[TableCell]] = []
    for model in summary.models:
        cell = summary.cell(model)
        assert cell is not None
        rows.append(
            [
                model,
                _quality(cell),
                str(cell.n),
                str(cell.failed),
                _money(cell.cost_per_1k_usd),
                _ms(cell.latency_p50_ms),
                _ms(cell.latency_p95_ms),
                "yes" if model in frontier else "",
            ]
        )
    return rows


def category_rows(summary: Summary) -> list[list[TableCell]]:
    rows: list[list[TableCell]] = []
    for category in summary.categories:
        cells = [summary.cell(m, category) for m in summary.models]
        best = max((c.quality for c in cells if c and c.quality is not None), default=None)
        row: list[TableCell] = [category.replace("_", " ")]
        for cell in cells:
            text = _quality(cell)
            row.append(Strong(text) if cell and cell.quality is not None and cell.quality == best else text)
        rows.append(row)
    return rows


def route_rows(calibration: Calibration) -> list[list[TableCell]]:
    return [
        [
            c.replace("_", " "),
            r.model,
            f"{r.quality:.2f}",
            _money(r.cost_per_1k_usd),
            r.baseline_model,
            f"{r.baseline_quality:.2f}",
            _money(r.baseline_cost_per_1k_usd),
            f"{calibration.mix[c]:.0%}",
        ]
        for c, r in calibration.routes.items()
        if c in calibration.mix
    ]


def substitution_line(calibration: Calibration, options: ReportOptions) -> str:
    """The credible-substitution sentence at the chosen quality floor."""
    floor = f"At a quality floor of {calibration.target:.0%} of the best model in each category"
    parts = [floor]
    if calibration.open_share is not None and options.open_models:
        names = ", ".join(sorted(options.open_models))
        parts.append(
            f", {calibration.open_share:.0%} of the workload (weighted by {options.mix_source}) "
            f"can move to open models ({names})"
        )
    else:
        parts.append(f" (traffic weighted by {options.mix_source})")
    baseline = (
        next(iter(calibration.routes.values())).baseline_model if calibration.routes else "the baseline"
    )
    savings = calibration.savings_fraction
    if savings is None:
        free = calibration.baseline_cost_per_1k_usd == 0
        parts.append(
            f"; {baseline} costs nothing per request, so there is nothing to save."
            if free
            else "; savings cannot be computed because some costs are unknown."
        )
        return "".join(parts)
    parts.append(f", cutting spend by {savings:.0%} against sending everything to {baseline}")
    monthly = (
        calibration.monthly_savings_usd(options.requests_per_month) if options.requests_per_month else None
    )
    if monthly is not None and options.requests_per_month:
        parts.append(f": about ${monthly:,.0f} a month at {options.requests_per_month:,.0f} requests")
    quality = calibration.quality_fraction
    if quality is not None:
        parts.append(f", keeping {quality:.0%} of its quality")
    return "".join(parts) + "."


def _html_table(table_id: str, headers: Sequence[str], rows: list[list[TableCell]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)

    def cell(value: TableCell) -> str:
        if isinstance(value, Strong):
            return f"<td><strong>{html.escape(value.text)}</strong></td>"
        return f"<td>{html.escape(value)}</td>"

    body = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in rows)
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _md_table(headers: Sequence[str], rows: list[list[TableCell]]) -> str:
    def cell(value: TableCell) -> str:
        text = f"**{value.text}**" if isinstance(value, Strong) else value
        return text.replace("|", "\\|") or " "

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


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
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;color:#1d2430;
padding:0 1rem}
h1{font-size:1.6rem}
h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #dde}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
th,td{border:1px solid #ccd;padding:.3rem .6rem;text-align:left}
th{background:#f1f4f9}
.headline{background:#eef5ee;border-left:4px solid #3a9a5b;padding:.8rem 1rem}
figure{margin:1rem 0}
figcaption{font-size:.85rem;color:#556}
img{max-width:100%}
"""


def build_evaluation_report(results: Results, options: ReportOptions = ReportOptions()) -> EvaluationReport:
    summary = summarize(results)
    calibration = calibrate(
        results, options.target, mix=options.mix, baseline=options.baseline, open_models=options.open_models
    )
    title = options.title or f"Evaluation report: {results.header.suite}"
    headline = substitution_line(calibration, options)
    labelled = [
        f"{c.category.replace('_', ' ')}: {c.sentence()}"
        for category in summary.categories
        for c in compare_to_best(summary, category)
    ]
    category_headers = ["category", *summary.models]
    charts = [
        ("quality-chart", quality_by_category_chart(summary), "Quality per category (95% CI)"),
        ("pareto-chart", pareto_chart(summary), "Quality against cost, with the Pareto frontier"),
        ("latency-chart", latency_chart(summary), "Latency p50 and p95"),
    ]
    generated = datetime.now(UTC).isoformat(timespec="seconds")
    meta = (
        f"Suite {results.header.suite} v{results.header.suite_version}; models: {', '.join(summary.models)}; "
        f"{len(results.items)} results; generated {generated}."
    )
    figures = "".join(
        f'<figure id="{fid}"><img alt="{html.escape(caption)}" src="{uri}"><figcaption>{html.escape(caption)}'
        f"</figcaption></figure>"
        for fid, uri, caption in charts
        if uri is not None
    )
    tables = {
        "models": _html_table("models", MODEL_HEADERS, model_rows(summary)),
        "categories": _html_table("quality-by-category", category_headers, category_rows(summary)),
        "routes": _html_table("routes", ROUTE_HEADERS, route_rows(calibration)),
    }
    sentences = "".join(f"<li>{html.escape(s)}</li>" for s in labelled) or "<li>(one model only)</li>"
    page = "".join(
        [
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
            f"<h1>{html.escape(title)}</h1><p>{html.escape(meta)}</p>",
            f'<p class="headline" id="substitution">{html.escape(headline)}</p>',
            f"<h2>Models</h2>{tables['models']}",
            f"<h2>Quality per category</h2>{tables['categories']}",
            f"<h2>Charts</h2>{figures}",
            f"<h2>Against the best model</h2><ul>{sentences}</ul>",
            f"<h2>Calibrated routes at {options.target:.0%}</h2>{tables['routes']}",
            "</body></html>",
        ]
    )
    markdown = (
        "\n\n".join(
            [
                f"# {title}",
                meta,
                f"> {headline}",
                "## Models",
                _md_table(MODEL_HEADERS, model_rows(summary)),
                "## Quality per category",
                _md_table(category_headers, category_rows(summary)),
                "## Against the best model",
                "\n".join(f"- {s}" for s in labelled) or "- (one model only)",
                f"## Calibrated routes at {options.target:.0%}",
                _md_table(ROUTE_HEADERS, route_rows(calibration)),
            ]
        )
        + "\n"
    )
    return EvaluationReport(html=page, markdown=markdown)
