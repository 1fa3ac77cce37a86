"""Evaluation: suites of the customer's own tasks, scorers, the runner, statistics and calibration.

suite, suite_files    what a suite is; loading JSONL/YAML with line-numbered errors
scorers/              the Scorer Protocol, its registry and the built-in kinds
sandbox               running model-written code against tests under limits
client, runner, cache calling the gateway, concurrently and resumably
results, stats        per-item records; summaries, intervals, Pareto, comparisons
calibration           the per-category quality table routing reads
"""

from interlock.evaluation.cache import ResultCache
from interlock.evaluation.calibration import Calibration, Route, calibrate
from interlock.evaluation.client import Completion, CompletionFailed, GatewayClient, RetryPolicy
from interlock.evaluation.results import ItemResult, Results, ResultsFileError, ResultsHeader
from interlock.evaluation.runner import run_suite, run_suite_async
from interlock.evaluation.scorers import Score, Scorer, ScorerConfigError, ScoringContext, register_scorer
from interlock.evaluation.stats import (
    OVERALL,
    Cell,
    Comparison,
    Interval,
    Summary,
    compare_to_best,
    pareto_frontier,
    quality_cost_points,
    summarize,
)
from interlock.evaluation.suite import Suite, SuiteItem, TaskCategory, suite_json_schemas
from interlock.evaluation.suite_files import SuiteError, SuiteProblem, load_suite, parse_suite

__all__ = [
    "OVERALL",
    "Calibration",
    "Cell",
    "Comparison",
    "Completion",
    "CompletionFailed",
    "GatewayClient",
    "Interval",
    "ItemResult",
    "ResultCache",
    "Results",
    "ResultsFileError",
    "ResultsHeader",
    "RetryPolicy",
    "Route",
    "Score",
    "Scorer",
    "ScorerConfigError",
    "ScoringContext",
    "Suite",
    "SuiteError",
    "SuiteItem",
    "SuiteProblem",
    "Summary",
    "TaskCategory",
    "calibrate",
    "compare_to_best",
    "load_suite",
    "pareto_frontier",
    "parse_suite",
    "quality_cost_points",
    "register_scorer",
    "run_suite",
    "run_suite_async",
    "suite_json_schemas",
    "summarize",
]
