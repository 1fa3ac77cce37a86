"""The compliance step of a request: scan what would leave, judge every deployment, refuse when none may serve."""

from __future__ import annotations

from interlock.compliance.gate import ComplianceGate
from interlock.gateway.context import RequestContext
from interlock.resilience import BreakerState, DeploymentRegistry


class Assess:
    """Deployments whose breaker is open count as unavailable: when every compliant deployment is
    down the request is refused (403 ``no_compliant_model``), never sent anywhere else."""

    def __init__(self, gate: ComplianceGate, resilience: DeploymentRegistry) -> None:
        self.gate, self.resilience = gate, resilience

    def _is_up(self, name: str) -> bool:
        return self.resilience.breaker(name).state is not BreakerState.OPEN

    async def __call__(self, ctx: RequestContext) -> None:
        if ctx.embedding is not None:
            body = ctx.embedding.payload
        else:
            assert ctx.upstream is not None
            body = ctx.upstream.body
        caller, rec = ctx.who, ctx.record
        ctx.assessment = assessment = self.gate.assess(body, key_id=caller.key_id, team=caller.team, is_up=self._is_up)
        rec.compliance = assessment
        if assessment.report.data_classes:
            rec.extra["data_classes"] = sorted(c.value for c in assessment.report.data_classes)
        if assessment.refused:
            assert assessment.decision is not None
            raise assessment.decision.refusal()
