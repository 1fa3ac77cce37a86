"""Preflight: whether each deployment can serve at all, and which routes that leaves servable.

A deployment passes when its API key variable is set, its host accepts a TCP connection (HTTP
deployments) or its weights are loaded (the embedded model). Checked at start and, cached for a
few seconds so probes stay cheap, by ``/readyz``; the gateway is ready when at least one route
(``auto`` or a named route) has a passing deployment.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from interlock.config.deployments import DeploymentBase, HttpDeployment, LlamaCppDeployment
from interlock.config.schema import GatewayConfig
from interlock.errors import ModelNotFound
from interlock.resilience.clock import Clock, MonotonicClock
from interlock.routing.settings import AUTO_ROUTE, RouteSettings
from interlock.versions.refs import VersionIndex

DEFAULT_TTL_S = 5.0  # /readyz is probed every few seconds; one round of connects serves them all
DEFAULT_CONNECT_TIMEOUT_S = 2.0


class PreflightStatus(StrEnum):
    OK = "ok"
    MISSING_KEY = "missing_key"
    UNREACHABLE = "unreachable"
    NOT_LOADED = "not_loaded"


@dataclass(frozen=True, slots=True)
class DeploymentCheck:
    """One deployment's verdict; ``detail`` is the variable (missing_key) or the reason (unreachable)."""

    deployment: str
    model: str
    status: PreflightStatus
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status is PreflightStatus.OK

    def describe(self) -> str:
        """One line for the start-up log and for ``/readyz``."""
        if self.status is PreflightStatus.MISSING_KEY:
            return f"deployment {self.deployment}: environment variable {self.detail} is not set"
        if self.status is PreflightStatus.UNREACHABLE:
            return f"deployment {self.deployment}: unreachable ({self.detail})"
        if self.status is PreflightStatus.NOT_LOADED:
            return f"deployment {self.deployment}: the embedded model is not loaded"
        return f"deployment {self.deployment}: ok"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status.value}
        if self.status is PreflightStatus.MISSING_KEY:
            out["variable"] = self.detail
        elif self.detail:
            out["reason"] = self.detail
        return out


@dataclass(frozen=True, slots=True)
class PreflightReport:
    checks: tuple[DeploymentCheck, ...]
    routes: Mapping[str, bool]  # route name → at least one of its deployments passes

    @property
    def ready(self) -> bool:
        return any(self.routes.values())

    def check_of(self, deployment: str) -> DeploymentCheck | None:
        return next((c for c in self.checks if c.deployment == deployment), None)

    def unavailable_models(self) -> dict[str, list[str]]:
        """Models none of whose deployments passes, with each deployment's problem."""
        by_model: dict[str, list[DeploymentCheck]] = {}
        for check in self.checks:
            by_model.setdefault(check.model, []).append(check)
        return {model: [c.describe() for c in checks]
                for model, checks in by_model.items() if not any(c.ok for c in checks)}

    def problems(self) -> list[str]:
        return [c.describe() for c in self.checks if not c.ok]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ready": self.ready,
            "servable_routes": sorted(name for name, ok in self.routes.items() if ok),
            "unservable_routes": sorted(name for name, ok in self.routes.items() if not ok),
            "unavailable_models": self.unavailable_models(),
            "problems": self.problems(),
        }


def missing_key(deployment: DeploymentBase, environ: Mapping[str, str]) -> str | None:
    """The name of the key variable a deployment needs and does not have, else None."""
    variable = getattr(deployment, "api_key_env", None)
    return variable if variable and not environ.get(variable) else None


async def connect_problem(base_url: str, timeout_s: float) -> str | None:
    """Why a TCP connection to the URL's host cannot be opened within ``timeout_s``, else None.

    A connection, not a request: it costs the upstream nothing and needs no key.
    """
    parts = urlsplit(base_url)
    host = parts.hostname
    if not host:
        return f"no host in {base_url!r}"
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return f"invalid port in {base_url!r}"
    try:
        _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout_s)
    except asyncio.TimeoutError:
        return f"no connection to {host}:{port} within {timeout_s:g}s"
    except OSError as exc:
        return f"cannot connect to {host}:{port}: {exc.strerror or type(exc).__name__}"
    except Exception as exc:  # a resolver or a network policy may refuse in its own way
        return f"cannot connect to {host}:{port}: {type(exc).__name__}"
    writer.close()
    try:
        await writer.wait_closed()
    except OSError:
        pass
    return None


async def check_deployment(
    deployment: DeploymentBase, loaded: Collection[str], environ: Mapping[str, str], timeout_s: float
) -> DeploymentCheck:
    def verdict(status: PreflightStatus, detail: str = "") -> DeploymentCheck:
        return DeploymentCheck(deployment.name, deployment.model, status, detail)

    if isinstance(deployment, LlamaCppDeployment):
        return verdict(PreflightStatus.OK if deployment.name in loaded else PreflightStatus.NOT_LOADED)
    variable = missing_key(deployment, environ)
    if variable:
        return verdict(PreflightStatus.MISSING_KEY, variable)
    if isinstance(deployment, HttpDeployment):
        problem = await connect_problem(deployment.base_url, timeout_s)
        if problem:
            return verdict(PreflightStatus.UNREACHABLE, problem)
    return verdict(PreflightStatus.OK)


def route_can_serve(route: RouteSettings, deployment: DeploymentBase) -> bool:
    """The route's static screens (as ``routing.policy.screen`` applies them), without the request."""
    if not deployment.capabilities.chat:
        return False
    if route.candidates is not None and deployment.model not in route.candidates:
        return False
    if route.needs_frontier_reasoning and deployment.open_weight:
        return False
    return route.allow_self_hosted or deployment.perimeter != "internal"


def servable_routes(config: GatewayConfig, checks: Iterable[DeploymentCheck]) -> dict[str, bool]:
    passing = {c.deployment for c in checks if c.ok}
    routes = [config.routing.auto.model_copy(update={"name": AUTO_ROUTE}), *config.routes]
    return {route.name: any(d.name in passing and route_can_serve(route, d) for d in config.deployments)
            for route in routes}


async def run_preflight(
    config: GatewayConfig,
    loaded: Collection[str],
    environ: Mapping[str, str] | None = None,
    timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
) -> PreflightReport:
    """Check every deployment at once (connects run concurrently, each bounded by ``timeout_s``)."""
    env = os.environ if environ is None else environ
    checks = await asyncio.gather(*(check_deployment(d, loaded, env, timeout_s) for d in config.deployments))
    return PreflightReport(tuple(checks), servable_routes(config, checks))


class Preflight:
    """The preflight of one runtime, cached for ``ttl_s``; concurrent callers share one round."""

    def __init__(
        self,
        config: GatewayConfig,
        loaded: Callable[[], Collection[str]],
        *,
        clock: Clock | None = None,
        ttl_s: float = DEFAULT_TTL_S,
        timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._config = config
        self._loaded = loaded
        self._clock = clock or MonotonicClock()
        self._ttl_s = ttl_s
        self._timeout_s = timeout_s
        self._environ = environ
        self._lock = asyncio.Lock()
        self._checked_at = float("-inf")
        self.latest: PreflightReport | None = None

    async def report(self) -> PreflightReport:
        async with self._lock:
            if self.latest is None or self._clock.now() - self._checked_at >= self._ttl_s:
                self.latest = await run_preflight(self._config, self._loaded(), self._environ, self._timeout_s)
                self._checked_at = self._clock.now()
            return self.latest


def start_up_lines(report: PreflightReport) -> list[str]:
    """What to say at start: each failing deployment and what it costs, then readiness if it is lost."""
    unavailable = report.unavailable_models()
    lines = []
    for check in report.checks:
        if check.ok:
            continue
        consequence = (f"model {check.model} is unavailable" if check.model in unavailable
                       else f"model {check.model} is served by its other deployments")
        if check.status is PreflightStatus.MISSING_KEY:
            lines.append(f"deployment {check.deployment}: environment variable {check.detail} is not set; "
                         f"{consequence}")
        else:
            lines.append(f"{check.describe()}; {consequence}")
    if not report.ready:
        lines.append("NOT READY: no route has a deployment that passes preflight; /readyz answers 503 "
                     "until one does")
    return lines


def unservable_names(config: GatewayConfig, report: PreflightReport, names: Iterable[str]) -> dict[str, list[str]]:
    """Of the names a client will call (models, ``family@version``, aliases, routes), those no passing
    deployment can serve, each with the problems in the way. Unknown names are left to the caller."""
    index = VersionIndex(config.deployments)
    aliases = {a.name: a for a in config.aliases}
    out: dict[str, list[str]] = {}
    for name in dict.fromkeys(names):
        if name in report.routes:
            if not report.routes[name]:
                out[name] = report.problems()
            continue
        alias = aliases.get(name)
        refs = [t.model for t in alias.weighted_targets()] + alias.fallbacks if alias else [name]
        try:
            deployments = {d.name for ref in refs for d in index.resolve(ref)}
        except ModelNotFound:
            continue
        checks = [c for c in report.checks if c.deployment in deployments]
        if checks and not any(c.ok for c in checks):
            out[name] = [c.describe() for c in checks]
    return out
