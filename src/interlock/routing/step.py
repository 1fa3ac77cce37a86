"""The routing step: one value of exclusions from every concern, one decision, tiers to try."""

from __future__ import annotations

from interlock.catalog.capabilities import check_supported, needs_of, unmet_needs
from interlock.catalog.catalog import CatalogModel
from interlock.gateway.context import RequestContext
from interlock.resilience import BreakerState, DeploymentRegistry
from interlock.routing.exclusions import Exclusions
from interlock.routing.router import Router
from interlock.versions.resolution import Versions

KEY_BARRED = "not allowed for this API key"
CIRCUIT_OPEN = "unhealthy: circuit open"


class Route:
    """Decide among the deployments every concern allows; ``ctx.tiers`` holds the replicas of each
    ranked model, in the order to try them."""

    def __init__(self, router: Router, versions: Versions, resilience: DeploymentRegistry) -> None:
        self.router, self.versions, self.resilience = router, versions, resilience

    def _candidates(self, ctx: RequestContext) -> list[CatalogModel]:
        target = ctx.target
        direct = target.as_model() if target is not None else None
        models = self.router.candidate_models(ctx.request, ctx.hints.route, direct)
        return models + list(target.fallbacks) if target is not None else models

    def exclusions(self, ctx: RequestContext, models: list[CatalogModel]) -> Exclusions:
        assessment, allows = ctx.assessment, ctx.key_allows
        barred: dict[str, str] = {}
        unhealthy: dict[str, str] = {}
        latency: dict[str, float] = {}
        ranked_by_route = ctx.route is not None  # a by-name request's ranking never reads latency
        for m in models:
            for d in m.deployments:
                why = (assessment.reason(d) if assessment is not None else None) or self.versions.sunset_reason(d)
                if why is None and allows is not None and not allows(d.model):
                    why = KEY_BARRED
                if why is not None:
                    barred[d.name] = why
                    continue
                if self.resilience.breaker(d.name).state is BreakerState.OPEN:
                    unhealthy[d.name] = CIRCUIT_OPEN
                if ranked_by_route:
                    latency[d.name] = self.resilience.health(d.name).latency_ewma.value or 0.0
        return Exclusions(barred, unhealthy, latency)

    async def __call__(self, ctx: RequestContext) -> None:
        req, target, assessment = ctx.request, ctx.target, ctx.assessment
        models = self._candidates(ctx)
        if assessment is not None and assessment.decision is not None:
            if not any(assessment.permits(d.name) for m in models for d in m.deployments):
                raise assessment.decision.refusal()  # nothing this request may use could serve it
        ctx.exclusions = exclusions = self.exclusions(ctx, models)
        ctx.decision = decision = self.router.decide(
            req, ctx.hints.route, exclusions, direct=target.as_model() if target is not None else None,
            fallbacks=target.fallbacks if target is not None else ())
        needs = needs_of(req)
        tiers = [[d.name for d in v.deployments if d.name not in exclusions.barred and not unmet_needs(needs, d)]
                 for v in decision.ranked]
        ctx.tiers = [t for t in tiers if t]
        if not ctx.tiers:
            check_supported(req, decision.chosen.deployments[0])  # raises, naming the first unmet need
        rec = ctx.record
        if decision.features is not None:
            rec.extra.update(route=decision.route, category=decision.features.category, decision=decision.reason,
                             rule=decision.rule)
            if decision.policy is not None:
                rec.extra.update(policy=decision.policy["version"], picked=decision.policy["picked"])
            ctx.prompt_tokens = decision.features.prompt_tokens
