"""Savings against the quality floor: calibration run at a few floors, read per task and overall.

Each floor costs one ``calibrate`` call and yields every task's route at once, so the curves for
all tasks come from ``len(FLOORS)`` calls (one more when the report's own target is not among
them). A floor that calibration refuses (``ValueError``) is kept with its message, never dropped
silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from interlock.evaluation.calibration import calibrate
from interlock.evaluation.results import Results
from interlock.reports.options import ReportOptions

FLOORS = (0.80, 0.825, 0.85, 0.875, 0.90, 0.925, 0.95, 0.975, 1.00)


class CalibratedRoute(Protocol):
    """What the report reads of one task's route."""

    @property
    def model(self) -> str: ...
    @property
    def quality(self) -> float: ...
    @property
    def cost_per_1k_usd(self) -> float | None: ...
    @property
    def baseline_model(self) -> str: ...
    @property
    def baseline_quality(self) -> float: ...
    @property
    def baseline_cost_per_1k_usd(self) -> float | None: ...


class CalibrationOutcome(Protocol):
    """What the report reads of a calibration: its routes and the traffic-weighted totals."""

    @property
    def routes(self) -> Mapping[str, CalibratedRoute]: ...
    @property
    def mix(self) -> Mapping[str, float]: ...
    @property
    def expected_cost_per_1k_usd(self) -> float | None: ...
    @property
    def baseline_cost_per_1k_usd(self) -> float | None: ...
    @property
    def savings_fraction(self) -> float | None: ...
    @property
    def quality_fraction(self) -> float | None: ...
    @property
    def open_share(self) -> float | None: ...


def route_label(route: CalibratedRoute) -> str:
    """The route as a reader should see it: a traffic split names every model and its share."""
    label = getattr(route, "label", None)  # only calibrations that split traffic carry one
    return label if isinstance(label, str) and label else route.model


def saved_share(cost: float | None, baseline_cost: float | None) -> float | None:
    """Share of the baseline's cost saved; None when a cost is unknown or the baseline costs nothing."""
    if cost is None or not baseline_cost:
        return None
    return 1 - cost / baseline_cost


@dataclass(frozen=True, slots=True)
class FloorPoint:
    """One task's route at one quality floor; ``route`` names the model, or the split between models."""

    floor: float
    route: str
    model: str  # the model taking most of the traffic
    quality: float
    cost_per_1k_usd: float | None
    baseline_model: str
    baseline_quality: float
    baseline_cost_per_1k_usd: float | None

    @property
    def savings(self) -> float | None:
        return saved_share(self.cost_per_1k_usd, self.baseline_cost_per_1k_usd)


@dataclass(frozen=True)
class FloorCalibrations:
    """Calibrations by floor, and the message of each floor calibration refused."""

    by_floor: dict[float, CalibrationOutcome]
    refused: dict[float, str]

    def at(self, floor: float) -> CalibrationOutcome | None:
        return self.by_floor.get(floor)

    @property
    def first_refusal(self) -> str | None:
        return next(iter(self.refused.values()), None)

    def task_points(self, category: str) -> list[FloorPoint]:
        points = []
        for floor in FLOORS:
            calibration = self.by_floor.get(floor)
            route = calibration.routes.get(category) if calibration else None
            if route is not None:
                points.append(
                    FloorPoint(
                        floor,
                        route_label(route),
                        route.model,
                        route.quality,
                        route.cost_per_1k_usd,
                        route.baseline_model,
                        route.baseline_quality,
                        route.baseline_cost_per_1k_usd,
                    )
                )
        return points

    def overall_savings(self) -> list[tuple[float, float]]:
        """``(floor, share saved)`` of the traffic-weighted totals, where both costs are known."""
        return [
            (floor, saved)
            for floor in FLOORS
            if (calibration := self.by_floor.get(floor)) is not None
            and (saved := calibration.savings_fraction) is not None
        ]


def calibrate_floors(results: Results, options: ReportOptions) -> FloorCalibrations:
    """Calibrate at every floor of ``FLOORS`` and at the report's target."""
    by_floor: dict[float, CalibrationOutcome] = {}
    refused: dict[float, str] = {}
    for floor in sorted({*FLOORS, options.target}):
        try:
            by_floor[floor] = calibrate(
                results, floor, mix=options.mix, baseline=options.baseline, open_models=options.open_models
            )
        except ValueError as exc:
            refused[floor] = str(exc)
    return FloorCalibrations(by_floor, refused)
