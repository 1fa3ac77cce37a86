"""Reports: self-contained HTML (charts inlined, no network) and Markdown built from evaluation results."""

from interlock.reports.evaluation_report import EvaluationReport, build_evaluation_report
from interlock.reports.options import ReportOptions

__all__ = ["EvaluationReport", "ReportOptions", "build_evaluation_report"]
