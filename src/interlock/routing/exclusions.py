"""Why deployments may not serve one request: computed once, before routing, from every concern.

``barred`` always holds (compliance, the caller's key, a version past its sunset). ``unhealthy``
(an open circuit) holds only while a healthy candidate remains: when the breakers would leave
nothing, routing ranks the unhealthy ones anyway and the breakers decide what is tried.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from interlock.config.deployments import DeploymentBase


@dataclass(frozen=True, slots=True)
class Exclusions:
    barred: Mapping[str, str] = field(default_factory=dict)
    unhealthy: Mapping[str, str] = field(default_factory=dict)
    latency_s: Mapping[str, float] = field(default_factory=dict)  # recent EWMA, for ranking ties

    def reason(self, d: DeploymentBase) -> str | None:
        """Why ``d`` is not a candidate (None: it is)."""
        return self.barred.get(d.name) or self.unhealthy.get(d.name)

    def ignoring_health(self) -> Exclusions:
        return Exclusions(self.barred, {}, self.latency_s)

    def latency(self, d: DeploymentBase) -> float:
        return self.latency_s.get(d.name, 0.0)


NO_EXCLUSIONS = Exclusions()
