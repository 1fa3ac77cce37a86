"""Timeouts: the settings value, and the limits one guarded call enforces (``StreamLimits``).

``connect`` is for the transport (providers pass it to their HTTP client); ``first_token``,
``stall`` and ``total`` are enforced by ``resilience.guard.GuardedProvider`` over any provider,
raising ``UpstreamTimeout`` whose ``code`` names the limit that fired (``timeout_first_token``,
``timeout_stall``, ``timeout_total``). A route's limits can only tighten a deployment's, and a
route limit firing is not held against the deployment (``StreamLimits.by_route``). A deployment's
own ``timeouts`` override the gateway-wide ``resilience.timeouts`` field by field, only where it
sets them: ``TimeoutSettings.overridden_by``.

The defaults turn a hang into a prompt failover: 30 s to the first streamed chunk, 30 s between
chunks, 300 s for a whole call. A non-streamed answer arrives in one piece, so only ``total``
bounds it (and the chain's per-request deadline bounds every attempt together).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from interlock.errors import UpstreamTimeout

D = TypeVar("D", bound=Any)


class TimeoutSettings(BaseModel):
    """Seconds; None means no limit. Field names match the deployment config's ``timeouts``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    connect: float | None = Field(5.0, gt=0)
    first_token: float | None = Field(30.0, gt=0, description="until the first streamed chunk")
    stall: float | None = Field(30.0, gt=0, description="between two streamed chunks")
    total: float | None = Field(300.0, gt=0, description="the whole call or stream")

    @classmethod
    def from_config(cls, config: Any) -> TimeoutSettings:
        """From any object with these attributes (such as a deployment's ``timeouts``)."""
        return cls(**{name: getattr(config, name, None) for name in cls.model_fields})

    def overridden_by(self, config: Any) -> TimeoutSettings:
        """These settings with the limits ``config`` (a deployment's ``timeouts``) sets explicitly.

        Only fields written in the config file count: a deployment that says nothing about
        ``first_token`` gets the gateway-wide value, not its own model's default.
        """
        explicit = getattr(config, "model_fields_set", None)
        names = explicit if explicit is not None else type(self).model_fields
        update = {name: getattr(config, name) for name in names if name in type(self).model_fields}
        return self.model_copy(update=update) if update else self


def with_transport_timeouts(deployment: D, settings: TimeoutSettings) -> D:
    """The deployment config to build its provider from, with the connect limit (and the transport's
    safety net past ``total``) taken from ``settings``, so gateway-wide values reach the HTTP client."""
    current = deployment.timeouts
    update = {name: getattr(settings, name) for name in ("connect", "total")
              if getattr(settings, name) is not None and getattr(settings, name) != getattr(current, name)}
    if not update:
        return deployment
    timeouts = current.model_copy(update=update)
    return deployment.model_copy(update={"timeouts": timeouts})  # type: ignore[no-any-return]


_WORDS = {"first_token": "first token", "stall": "stall between chunks", "total": "total"}


def timeout_error(limit: str, seconds: float, deployment: str) -> UpstreamTimeout:
    """The error for ``limit`` (``first_token``, ``stall``, ``total``) of ``seconds`` having fired."""
    where = f"deployment {deployment!r}" if deployment else "the upstream"
    return UpstreamTimeout(
        f"{where} exceeded its {_WORDS[limit]} timeout of {seconds:g}s",
        deployment=deployment,
        code=f"timeout_{limit}",
    )


def _tighter(own: float | None, route: float | None) -> tuple[float | None, bool]:
    """The limit in force and whether it is the route's (strictly tighter than the deployment's)."""
    if route is not None and (own is None or route < own):
        return route, True
    return own, False


@dataclass(frozen=True, slots=True)
class StreamLimits:
    """The limits of one guarded call, worked out once: each the tighter of the deployment's and
    the route's, with whether it is the route's (a route limit firing says nothing about the deployment)."""

    first_token: float | None
    stall: float | None
    total: float | None
    first_token_by_route: bool = False
    stall_by_route: bool = False
    total_by_route: bool = False

    @classmethod
    def of(cls, own: TimeoutSettings, route: TimeoutSettings | None = None) -> StreamLimits:
        if route is None:
            return cls(own.first_token, own.stall, own.total)
        first, first_route = _tighter(own.first_token, route.first_token)
        stall, stall_route = _tighter(own.stall, route.stall)
        total, total_route = _tighter(own.total, route.total)
        return cls(first, stall, total, first_route, stall_route, total_route)

    def by_route(self, limit: str) -> bool:
        return bool(getattr(self, f"{limit}_by_route"))
