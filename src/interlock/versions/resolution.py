"""Version management on the request path: pins, canary splits, lifecycle (deprecation, sunset), shadows.

A request that names a model or alias (not a route) is resolved here to the exact deployments
that may serve it: a ``x-interlock-pin`` header wins; an alias picks its canary target sticky
per API key or user; a sunset version goes to its successor or answers 410.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from interlock.catalog.catalog import CatalogModel
from interlock.config.deployments import DeploymentBase
from interlock.config.schema import GatewayConfig
from interlock.providers.base import ChatRequest, Provider
from interlock.types import Usage
from interlock.versions.canary import choose_target
from interlock.versions.lifecycle import LifecycleGate, LifecycleState, LifecycleVerdict, gone_error
from interlock.versions.pinning import families_for, resolve_pin
from interlock.versions.refs import VersionIndex
from interlock.versions.settings import VersionedAlias
from interlock.versions.shadow import ShadowCandidate, ShadowRunner, ShadowTicket


@dataclass(slots=True)
class Target:
    """What a by-name request resolved to."""

    name: str
    deployments: tuple[DeploymentBase, ...]
    verdict: LifecycleVerdict | None = None
    alias: VersionedAlias | None = None
    pinned: bool = False
    fallbacks: tuple[CatalogModel, ...] = ()

    def as_model(self) -> CatalogModel:
        return CatalogModel(self.name, self.deployments)

    def headers_for(self, served: DeploymentBase) -> dict[str, str]:
        return self.verdict.headers_for(served) if self.verdict is not None else {}


class Versions:
    def __init__(self, config: GatewayConfig, rng: random.Random | None = None) -> None:
        self.index = VersionIndex(config.deployments)
        self.gate = LifecycleGate(config.lifecycle)
        self.aliases = {a.name: a for a in config.aliases}
        self.rng = rng or random.Random()

    def resolve(self, model: str, pin: str | None, *, key_id: str | None, user: str | None) -> Target:
        """The deployments that serve a request naming ``model`` (a model, ``family@version`` or alias)."""
        alias = self.aliases.get(model)
        pinned = resolve_pin(pin, self.index, families_for(model, self.aliases, self.index)) if pin else None
        if pinned is not None:
            ref, deployments = str(pinned.ref), pinned.deployments
        elif alias is not None:
            ref = choose_target(alias, self.rng, api_key_id=key_id, user=user)
            deployments = self.index.resolve(ref)
        else:
            ref, deployments = model, self.index.resolve(model)
        verdict = self.gate.check(ref, deployments, self.index.resolve)
        if pinned is not None and verdict.redirected:
            raise gone_error(ref, verdict.retired[0])  # a pin means exactly that version
        name = alias.name if alias is not None and pinned is None else ref
        fallbacks: tuple[CatalogModel, ...] = ()
        if alias is not None and pinned is None:  # a pin means exactly that version: no fallback
            fallbacks = tuple(CatalogModel(f, self.index.resolve(f)) for f in alias.fallbacks if f != ref)
        return Target(name, verdict.deployments, verdict, alias, pinned is not None, fallbacks)

    def sunset_reason(self, d: DeploymentBase) -> str | None:
        """For routing: versions past their sunset are not candidates."""
        return "version past its sunset date" if self.gate.state_of(d) is LifecycleState.SUNSET else None

    def start_shadow(
        self, target: Target, runner: ShadowRunner | None, provider_of: Callable[[str], Provider],
        request: ChatRequest, config_hash: str, cost_of: Callable[[str, Usage], Decimal | None],
    ) -> ShadowTicket | None:
        """Mirror the request to the alias's shadow candidate (sampled, capped, in the background)."""
        alias = target.alias
        if runner is None or alias is None or alias.shadow is None or target.pinned:
            return None
        deployments = self.index.resolve(alias.shadow.model)
        if not deployments:
            return None
        d = deployments[0]
        candidate = ShadowCandidate(alias.shadow.model, d.name, provider_of(d.name),
                                    lambda usage: cost_of(d.name, usage))
        return runner.start(alias.name, alias.shadow, candidate, request, target.name, config_hash=config_hash)
