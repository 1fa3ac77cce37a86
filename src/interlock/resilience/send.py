"""The chain step: the request's ranked tiers become one fallback chain over guarded providers."""

from __future__ import annotations

from interlock.gateway.context import RequestContext
from interlock.resilience.registry import DeploymentRegistry
from interlock.resilience.timeouts import TimeoutSettings
from interlock.routing.router import Router


class BuildChain:
    """Replicas balanced, spill-over past the route's latency target, compliance's filter and
    per-deployment view (redaction, the record of who received the body) applied to every attempt."""

    def __init__(self, registry: DeploymentRegistry, router: Router) -> None:
        self.registry, self.router = registry, router

    async def __call__(self, ctx: RequestContext) -> None:
        decision, assessment = ctx.decision, ctx.assessment
        route = self.router.routes.get(decision.route) if decision is not None else None
        target_s = route.latency_target_ms / 1000 if route and route.latency_target_ms else None
        allow = assessment.permits if assessment is not None else None
        # an embedding of a redacted text is another vector: embeddings are never redacted, only filtered
        wrap = assessment.wrap if assessment is not None and ctx.embedding is None else None
        limits = route.timeouts if route is not None else None
        timeouts = TimeoutSettings(connect=None, **limits.model_dump()) if limits is not None else None
        ctx.chain = self.registry.chain(ctx.tiers, latency_target_s=target_s, allow=allow, wrap=wrap,
                                        timeouts=timeouts)
