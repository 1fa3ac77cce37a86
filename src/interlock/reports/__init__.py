"""Reports: self-contained HTML (charts inlined, no network) and Markdown built from evaluation results."""

from interlock.reports.evaluation_report import EvaluationReport, ReportOptions, build_evaluation_report

__all__ = ["EvaluationReport", "ReportOptions", "build_evaluation_report"]
