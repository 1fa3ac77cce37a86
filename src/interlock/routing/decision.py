"""The routing decision: every candidate's verdict, the pick, the ranked fallbacks, and the reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from interlock.catalog.catalog import CatalogModel
from interlock.config.deployments import DeploymentBase
from interlock.routing.features import Features


@dataclass(slots=True)
class Verdict:
    model: str
    kept: bool
    reason: str
    quality: float | None = None
    expected_quality: float | None = None
    estimated_cost_usd: float | None = None
    deployments: tuple[DeploymentBase, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "kept": self.kept,
            "reason": self.reason,
            "quality": self.quality,
            "expected_quality": None if self.expected_quality is None else round(self.expected_quality, 4),
            "estimated_cost_usd": self.estimated_cost_usd,
            "deployments": [d.name for d in self.deployments],
        }


@dataclass(slots=True)
class Decision:
    route: str
    features: Features | None
    ranked: list[Verdict]
    verdicts: list[Verdict] = field(default_factory=list)
    reason: str = ""
    required_quality: float | None = None
    baseline_model: str | None = None
    baseline_cost_usd: float | None = None
    # which rule decided: "policy" (a calibrated task route), "uncovered" (a task the policy has no
    # data for), "priors" (no policy: the shipped quality priors) or "direct" (a model asked by name)
    rule: str = "direct"
    policy: dict[str, Any] | None = None  # the policy's version and hash, the task route, the draw

    @property
    def chosen(self) -> Verdict:
        return self.ranked[0]

    def header_route(self) -> str:
        category = self.features.category if self.features else "none"
        return f"{self.route}; category={category}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "route": self.route,
            "features": self.features.to_dict() if self.features else None,
            "chosen": self.chosen.model,
            "ranked": [v.model for v in self.ranked],
            "required_quality": self.required_quality,
            "reason": self.reason,
            "baseline_model": self.baseline_model,
            "baseline_cost_usd": self.baseline_cost_usd,
            "rule": self.rule,
            "policy": self.policy,
            "candidates": [v.to_dict() for v in self.verdicts],
        }


def direct_decision(model: CatalogModel, fallbacks: tuple[CatalogModel, ...] = ()) -> Decision:
    """A request that named a concrete model or alias: no classification; declared fallbacks follow it."""
    ranked = [Verdict(model=model.name, kept=True, reason="requested by name", deployments=model.deployments)]
    ranked += [Verdict(model=f.name, kept=True, reason="declared fallback", deployments=f.deployments) for f in fallbacks]
    return Decision(route="direct", features=None, ranked=ranked, verdicts=list(ranked),
                    reason=f"model {model.name} requested by name")
