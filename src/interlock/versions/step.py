"""The version steps of a by-name request: resolve pins, canaries and lifecycle; mirror to a shadow."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from interlock.gateway.context import RequestContext
from interlock.providers.base import Provider
from interlock.types import Usage
from interlock.versions.resolution import Versions
from interlock.versions.shadow import ShadowRunner


class ResolveVersion:
    """A request naming a model or alias (not a route) resolves to the exact deployments that may serve it."""

    def __init__(self, versions: Versions) -> None:
        self.versions = versions

    async def __call__(self, ctx: RequestContext) -> None:
        if ctx.route is not None:
            return
        caller, req = ctx.who, ctx.request
        # without auth every caller is "anonymous": no key to stick to, so each request draws
        sticky_key = caller.key_id if caller.key is not None else None
        ctx.target = self.versions.resolve(req.model, ctx.hints.pin, key_id=sticky_key, user=req.user)


class StartShadow:
    """Mirror the request to its alias's shadow candidate; sensitive requests are never mirrored."""

    def __init__(self, versions: Versions, runner: ShadowRunner | None, provider_of: Callable[[str], Provider],
                 config_hash: str, cost_of: Callable[[str, Usage], Decimal | None]) -> None:
        self.versions, self.runner, self.provider_of = versions, runner, provider_of
        self.config_hash, self.cost_of = config_hash, cost_of

    async def __call__(self, ctx: RequestContext) -> None:
        if self.runner is None or ctx.target is None or ctx.upstream is None:
            return
        if ctx.assessment is not None and ctx.assessment.decision:
            return
        ctx.shadow = self.versions.start_shadow(ctx.target, self.runner, self.provider_of, ctx.upstream,
                                                self.config_hash, self.cost_of)
