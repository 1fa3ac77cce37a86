"""The accounting steps of a request: who is calling, may their key use what it names, the budget
hold before sending, and settling it to the actual cost afterwards."""

from __future__ import annotations

from interlock.accounting.metering import Metering
from interlock.gateway.context import RequestContext
from interlock.routing.router import Router
from interlock.types import Usage


class Identify:
    """The virtual key behind the presented credential (401 when auth is on and it fails)."""

    def __init__(self, metering: Metering) -> None:
        self.metering = metering

    async def __call__(self, ctx: RequestContext) -> None:
        ctx.caller = caller = await self.metering.identify(ctx.presented_key)
        ctx.record.key_id, ctx.record.team = caller.key_id, caller.team


class Authorize:
    """403 unless the caller's key may use what the request names; for a route, which of its
    candidate models the key may reach (``ctx.key_allows``)."""

    def __init__(self, metering: Metering, router: Router) -> None:
        self.metering, self.router = metering, router

    async def __call__(self, ctx: RequestContext) -> None:
        if ctx.embedding is not None:
            self.metering.check_model(ctx.who, ctx.embedding.model)
        elif ctx.route is None:
            self.metering.check_model(ctx.who, ctx.request.model)
        else:
            candidates = [m.name for m in self.router.candidate_models(ctx.request, ctx.hints.route)]
            ctx.key_allows = self.metering.models_for_route(ctx.who, ctx.route.name, candidates)


class Admit:
    """Rate limits, then a budget hold for the most the request could cost where it may be sent."""

    def __init__(self, metering: Metering) -> None:
        self.metering = metering

    async def __call__(self, ctx: RequestContext) -> None:
        names = [n for tier in ctx.tiers for n in tier]
        if ctx.embedding is not None:
            ctx.admission = await self.metering.admit_embedding(ctx.who, names[0], ctx.embedding.payload)
        else:
            assert ctx.upstream is not None
            ctx.admission = await self.metering.admit(ctx.who, names, ctx.upstream.body, ctx.prompt_tokens)


class Settle:
    """Price what was used and turn the hold into spend; release it when nothing was served."""

    def __init__(self, metering: Metering) -> None:
        self.metering = metering

    async def __call__(self, ctx: RequestContext, usage: Usage | None) -> None:
        served, rec = ctx.served, ctx.record
        cost = None
        if served is not None and usage is not None:
            rec.usage = usage
            served.cost = cost = self.metering.price(served.deployment.name, usage)
            rec.cost_usd, rec.baseline_cost_usd = cost.cost_usd, cost.baseline_cost_usd
        await self.metering.settle(ctx.admission, cost, usage if cost is not None else None)
