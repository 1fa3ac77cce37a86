"""Timeouts: a settings value and the wrappers that enforce them on calls and streams.

``connect`` is for the transport (providers pass it to their HTTP client); ``first_token``,
``stall`` and ``total`` are enforced here over any provider, raising ``UpstreamTimeout`` whose
``code`` names the limit that fired (``timeout_first_token``, ``timeout_stall``, ``timeout_total``).
Route settings can only tighten a deployment's: ``TimeoutSettings.tightest``. A deployment's own
``timeouts`` override the gateway-wide ``resilience.timeouts`` field by field, only where it sets them:
``TimeoutSettings.overridden_by``.

The defaults turn a hang into a prompt failover: 30 s to the first streamed chunk, 30 s between
chunks, 300 s for a whole call. A non-streamed answer arrives in one piece, so only ``total``
bounds it (and the chain's per-request deadline bounds every attempt together).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from interlock.errors import UpstreamTimeout
from interlock.providers.base import JSON, ChatRequest, Provider, embed_on
from interlock.resilience.clock import Clock
from interlock.resilience.streams import closing

T = TypeVar("T")
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

    def tightest(self, other: TimeoutSettings | None) -> TimeoutSettings:
        """Each limit the smaller of the two (a route may tighten a deployment's limits)."""
        if other is None:
            return self
        merged: dict[str, float | None] = {}
        for name in type(self).model_fields:
            values = [v for v in (getattr(self, name), getattr(other, name)) if v is not None]
            merged[name] = min(values) if values else None
        return TimeoutSettings(**merged)


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


def _timeout_error(limit: str, seconds: float, deployment: str) -> UpstreamTimeout:
    where = f"deployment {deployment!r}" if deployment else "the upstream"
    words = {"first_token": "first token", "stall": "stall between chunks", "total": "total"}[limit]
    return UpstreamTimeout(
        f"{where} exceeded its {words} timeout of {seconds:g}s",
        deployment=deployment,
        code=f"timeout_{limit}",
    )


async def call_with_timeout(aw: Awaitable[T], total: float | None, clock: Clock, deployment: str = "") -> T:
    """Await ``aw`` within ``total`` seconds or raise ``UpstreamTimeout`` (code ``timeout_total``)."""
    deadline = clock.timeout(total)
    try:
        async with deadline:
            return await aw
    except TimeoutError:
        if deadline.expired() and total is not None:
            raise _timeout_error("total", total, deployment) from None
        raise


async def enforce_stream_timeouts(
    chunks: AsyncIterator[JSON], settings: TimeoutSettings, clock: Clock, deployment: str = ""
) -> AsyncIterator[JSON]:
    """Re-yield ``chunks``, enforcing first-token, stall and total limits; closes ``chunks`` when done.

    The clock only runs while waiting on the upstream: the caller's own pauses between reads
    count toward ``total`` but never as a stall.
    """
    start = clock.now()
    first = True
    async with closing(chunks):
        while True:
            limit, seconds = ("first_token", settings.first_token) if first else ("stall", settings.stall)
            if settings.total is not None:
                left = settings.total - (clock.now() - start)
                if seconds is None or left < seconds:
                    limit, seconds = "total", left
            if seconds is not None and seconds <= 0:
                raise _timeout_error(limit, settings.total or 0.0, deployment)
            deadline = clock.timeout(seconds)
            try:
                async with deadline:
                    chunk = await anext(chunks)
            except StopAsyncIteration:
                return
            except TimeoutError:
                if not deadline.expired() or seconds is None:
                    raise
                shown = settings.total if limit == "total" and settings.total is not None else seconds
                raise _timeout_error(limit, shown, deployment) from None
            first = False
            yield chunk


class TimeoutProvider:
    """Wraps a provider with ``settings`` (the connect limit is the inner provider's business)."""

    def __init__(
        self, inner: Provider, settings: TimeoutSettings, clock: Clock, deployment: str = ""
    ) -> None:
        self.inner = inner
        self.settings = settings
        self._clock = clock
        self._deployment = deployment

    async def complete(self, request: ChatRequest) -> JSON:
        return await call_with_timeout(
            self.inner.complete(request), self.settings.total, self._clock, self._deployment
        )

    def stream(self, request: ChatRequest) -> AsyncIterator[JSON]:
        return enforce_stream_timeouts(
            self.inner.stream(request), self.settings, self._clock, self._deployment
        )

    async def embed(self, body: JSON, request_id: str = "") -> JSON:
        return await call_with_timeout(
            embed_on(self.inner, body, request_id), self.settings.total, self._clock, self._deployment
        )

    async def aclose(self) -> None:
        await self.inner.aclose()
