"""What the gateway core hands back to the HTTP layer: the answer, and what served it and why."""

from __future__ import annotations

from dataclasses import dataclass, field

from interlock.accounting.costs import RequestCost, format_usd
from interlock.config.deployments import DeploymentBase
from interlock.resilience import AttemptReport
from interlock.routing.decision import Decision
from interlock.types import JSON


@dataclass(frozen=True, slots=True)
class Hints:
    """Per-request steering from headers: a route (``x-interlock-route``), a version pin (``x-interlock-pin``)."""

    route: str | None = None
    pin: str | None = None


@dataclass(slots=True)
class Served:
    """What served a request and how: the response headers are made from this."""

    deployment: DeploymentBase
    decision: Decision
    attempts: AttemptReport
    cost: RequestCost | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)

    def headers(self) -> dict[str, str]:
        d = self.deployment
        headers = {"x-interlock-model": d.model, "x-interlock-deployment": d.name, **self.attempts.headers()}
        if d.version:
            headers["x-interlock-version"] = f"{d.model}@{d.version}"
        if self.decision.features is not None:
            headers["x-interlock-route"] = self.decision.header_route()
            headers["x-interlock-decision"] = self.decision.reason.encode("ascii", "replace").decode()[:512]
        if self.cost is not None:
            headers["x-interlock-cost-usd"] = format_usd(self.cost.cost_usd)
            headers["x-interlock-baseline-cost-usd"] = format_usd(self.cost.baseline_cost_usd)
        headers.update(self.extra_headers)
        return headers


@dataclass(slots=True)
class ChatResult:
    response: JSON
    served: Served
