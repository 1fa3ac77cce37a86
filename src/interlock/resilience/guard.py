"""``GuardedProvider``: one deployment's provider behind its breaker, timeouts, finish-reason check
and health record, in one wrapper and (for streams) one generator loop.

Per call: refuse at once while the breaker is open (``CircuitOpen``, before health sees anything);
enforce the limits by one deadline (complete/embed: ``total``; a stream: ``first_token``, then
``stall`` between chunks, within ``total``, the deadline moved per chunk and disarmed while the caller
holds a chunk, so the caller's own pauses never count as a stall); a stream that ends without any
``finish_reason`` is a cut answer (``require_finish_reason``). The verdict is recorded once, at the
end, in health and breaker alike:

- success: latency (and time to first token) in health, a success in the breaker;
- a failure the deployment caused (``blames_deployment``; a timeout of its own limits, a cut
  stream): an error in both (a local ``Overloaded`` only releases the breaker: busy, not broken);
- the caller went away, or a route's (tighter) limit fired: no verdict at all.

``for_route(timeouts)`` is the per-request view with a route's limits laid over the deployment's; it
shares the deployment's health and breaker and does not own the provider.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from interlock.errors import Overloaded, UpstreamMalformed
from interlock.providers.base import JSON, ChatRequest, Provider, embed_on
from interlock.providers.wrapped import WrappedProvider
from interlock.resilience.breaker import CircuitBreaker
from interlock.resilience.clock import Clock
from interlock.resilience.failures import blames_deployment
from interlock.resilience.health import DeploymentHealth
from interlock.resilience.timeouts import StreamLimits, TimeoutSettings, timeout_error


class GuardedProvider(WrappedProvider):
    __slots__ = ("name", "health", "breaker", "timeouts", "limits", "require_finish_reason", "_clock")

    def __init__(
        self,
        inner: Provider,
        name: str,
        *,
        health: DeploymentHealth,
        breaker: CircuitBreaker,
        timeouts: TimeoutSettings,
        clock: Clock,
        require_finish_reason: bool = True,
        route_timeouts: TimeoutSettings | None = None,
        owns_inner: bool = True,
    ) -> None:
        super().__init__(inner, owns_inner=owns_inner)
        self.name = name
        self.health = health
        self.breaker = breaker
        self.timeouts = timeouts
        self.limits = StreamLimits.of(timeouts, route_timeouts)
        self.require_finish_reason = require_finish_reason
        self._clock = clock

    def for_route(self, route_timeouts: TimeoutSettings | None) -> GuardedProvider:
        """This deployment under a route's limits too (each only where tighter), for one request."""
        if route_timeouts is None:
            return self
        return GuardedProvider(
            self.inner, self.name, health=self.health, breaker=self.breaker, timeouts=self.timeouts,
            clock=self._clock, require_finish_reason=self.require_finish_reason,
            route_timeouts=route_timeouts, owns_inner=False,
        )

    async def complete(self, request: ChatRequest) -> JSON:
        return await self._call(lambda: self.inner.complete(request), "complete")

    async def embed(self, body: JSON, request_id: str = "") -> JSON:
        return await self._call(lambda: embed_on(self.inner, body, request_id), "embed")

    async def _call(self, call: Callable[[], Awaitable[JSON]], kind: str) -> JSON:
        self.breaker.check()
        clock, limits = self._clock, self.limits
        start = clock.now()
        token = self.health.started()
        route_fired = False
        try:
            deadline = clock.timeout(limits.total)
            try:
                async with deadline:
                    result = await call()
            except TimeoutError:
                if not deadline.expired() or limits.total is None:
                    raise
                route_fired = limits.total_by_route
                raise timeout_error("total", limits.total, self.name) from None
        except Exception as exc:
            self._failed(exc, token, kind, route_fired)
            raise
        except BaseException:
            self._abandoned(token)
            raise
        self.health.succeeded(clock.now() - start, token, kind)
        self.breaker.record_success(kind)
        return result

    async def stream(self, request: ChatRequest) -> AsyncIterator[JSON]:
        self.breaker.check()
        clock, limits = self._clock, self.limits
        start = clock.now()
        token = self.health.started()
        ends_at = None if limits.total is None else start + limits.total
        stall = limits.stall
        limit, seconds = _first_wait(limits)
        deadline = clock.timeout(seconds)
        chunks = self.inner.stream(request)
        got_first = finished = route_fired = False
        try:
            try:
                async with deadline:
                    async for chunk in chunks:
                        deadline.reschedule_in(None)  # the caller's time with the chunk is not a stall
                        if not got_first:
                            got_first = True
                            self.health.first_token(clock.now() - start)
                        if not finished:
                            for choice in chunk.get("choices") or ():
                                if choice.get("finish_reason"):
                                    finished = True
                        yield chunk
                        limit, seconds = "stall", stall
                        if ends_at is not None:
                            left = ends_at - clock.now()
                            if stall is None or left < stall:
                                limit, seconds = "total", left
                                if left <= 0:  # spent while the caller held the chunk: a chunk
                                    route_fired = limits.total_by_route  # already buffered must not slip past
                                    raise timeout_error("total", ends_at - start, self.name)
                        deadline.reschedule_in(seconds)
            except TimeoutError:
                if not deadline.expired() or seconds is None:
                    raise
                route_fired = limits.by_route(limit)
                shown = getattr(limits, limit)
                raise timeout_error(limit, shown, self.name) from None
            if self.require_finish_reason and not finished:
                raise UpstreamMalformed(
                    f"Deployment {self.name!r} ended its stream without a finish_reason",
                    deployment=self.name, code="stream_without_finish_reason",
                )
        except Exception as exc:
            self._failed(exc, token, "stream", route_fired)
            raise
        except BaseException:  # GeneratorExit (the caller stopped reading) or cancellation
            self._abandoned(token)
            raise
        finally:
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                await aclose()
        self.health.succeeded(clock.now() - start, token, "stream")
        self.breaker.record_success("stream")

    def _failed(self, exc: Exception, token: int, kind: str, route_fired: bool) -> None:
        if route_fired:  # the request's own limit, not the deployment's: no verdict
            self._abandoned(token)
            return
        self.health.failed(exc, token, kind)
        # a full local queue sheds load: the deployment is busy, not broken
        if not blames_deployment(exc) or isinstance(exc, Overloaded):
            self.breaker.release()
        else:
            self.breaker.record_failure(kind)

    def _abandoned(self, token: int) -> None:
        self.health.abandoned(token)
        self.breaker.release()


def _first_wait(limits: StreamLimits) -> tuple[str, float | None]:
    """The limit on the wait for the first chunk: ``first_token``, or ``total`` when that is as tight."""
    if limits.total is not None and (limits.first_token is None or limits.total <= limits.first_token):
        return "total", limits.total
    return "first_token", limits.first_token
