"""The sentences a reader sees first: the credible-substitution line and the one-model warning."""

from __future__ import annotations

from interlock.evaluation.stats import Summary
from interlock.reports.blocks import WarningBox
from interlock.reports.money import format_usd
from interlock.reports.options import ReportOptions
from interlock.reports.savings_curve import CalibrationOutcome


def baseline_name(calibration: CalibrationOutcome | None, options: ReportOptions) -> str:
    """The model savings are measured against, as calibration chose it."""
    if calibration is not None and calibration.routes:
        return next(iter(calibration.routes.values())).baseline_model
    return options.baseline or "the baseline"


def scored_models(summary: Summary, category: str | None = None) -> list[str]:
    """Models with at least one scored item (overall, or on one task)."""
    return [
        m
        for m in summary.models
        if (cell := (summary.cell(m, category) if category else summary.cell(m))) and cell.quality is not None
    ]


def too_few_models(count: int) -> str:
    """Why nothing can be compared when ``count`` (0 or 1) models have scored results."""
    return "No model has scored results" if count == 0 else "Only one model has scored results"


def single_model_warning(summary: Summary) -> WarningBox | None:
    scored = scored_models(summary)
    if len(scored) > 1:
        return None
    which = f"Only one model ({scored[0]}) has scored results" if scored else "No model has scored results"
    return WarningBox(
        "No comparison is possible.",
        f"{which}, so there is nothing to compare it with and savings cannot be measured: every "
        "quality floor routes all traffic to the same model. Evaluate at least one alternative "
        "(for example an open-weight model) on the same suite before drawing conclusions.",
        element_id="single-model-warning",
    )


def substitution_line(calibration: CalibrationOutcome, options: ReportOptions) -> str:
    """The credible-substitution sentence at the report's quality floor."""
    baseline = baseline_name(calibration, options)
    parts = [f"At a quality floor of {options.target:.0%} of {baseline}'s quality on each task"]
    if calibration.open_share is not None and options.open_models:
        names = ", ".join(sorted(options.open_models))
        parts.append(
            f", {calibration.open_share:.0%} of the workload (weighted by {options.mix_source}) "
            f"can move to open models ({names})"
        )
    else:
        parts.append(f" (traffic weighted by {options.mix_source})")
    savings = calibration.savings_fraction
    expected, base_cost = calibration.expected_cost_per_1k_usd, calibration.baseline_cost_per_1k_usd
    if savings is None:
        parts.append(
            f"; {baseline} costs nothing per request, so there is nothing to save."
            if base_cost == 0
            else "; savings cannot be computed because some costs are unknown."
        )
        return "".join(parts)
    parts.append(f", cutting spend by {savings:.0%} against sending everything to {baseline}")
    volume = options.requests_per_month
    if volume and expected is not None and base_cost is not None:
        monthly = (base_cost - expected) * volume / 1000
        parts.append(f": about {format_usd(monthly)} a month at {volume:,.0f} requests")
    quality = calibration.quality_fraction
    if quality is not None:
        parts.append(f", keeping {quality:.0%} of its quality")
    return "".join(parts) + "."


def calibration_refused_line(message: str) -> str:
    return f"Routes could not be calibrated from these results: {message}"
