"""Circuit breaker per deployment: closed, open, half-open; time comes from an injected clock.

Closed: traffic flows; the breaker opens after ``consecutive_failures`` failures in a row, or
when at least ``min_requests`` finished in the window and the error rate reached
``error_rate``. Open: nothing is sent until ``cooldown_s`` has passed. Half-open: at most
``half_open_probes`` requests go through at once; a success closes it, a failure reopens it.

Every ``allow()`` that returns True must be followed by exactly one of ``record_success``,
``record_failure`` or ``release`` (no verdict); ``BreakerProvider`` does that for you.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from interlock.errors import Overloaded
from interlock.providers.base import JSON, ChatRequest, Provider
from interlock.resilience.clock import Clock
from interlock.resilience.failures import CircuitOpen, is_client_error
from interlock.resilience.streams import closing
from interlock.resilience.window import WindowCounter


class BreakerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    consecutive_failures: int = Field(5, gt=0)
    error_rate: float = Field(0.5, gt=0, le=1)
    min_requests: int = Field(20, gt=0, description="finished requests in the window before the rate counts")
    window_s: float = Field(30.0, gt=0)
    cooldown_s: float = Field(10.0, gt=0, description="time open before probing")
    half_open_probes: int = Field(1, gt=0, description="probes allowed in flight while half-open")


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(self, deployment: str, clock: Clock, settings: BreakerSettings | None = None) -> None:
        self.deployment = deployment
        self.settings = settings or BreakerSettings()
        self._clock = clock
        self._state = BreakerState.CLOSED
        self._consecutive = 0
        self._opened_at = 0.0
        self._probes = 0
        self._window = WindowCounter(clock, self.settings.window_s)
        self.reason = ""
        self.transitions: list[tuple[float, BreakerState, str]] = []

    @property
    def state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and self.retry_in() <= 0:
            self._move(BreakerState.HALF_OPEN, "cooldown elapsed; probing")
        return self._state

    def retry_in(self) -> float:
        """Seconds until an open breaker lets a probe through (0 when not open)."""
        if self._state is not BreakerState.OPEN:
            return 0.0
        return max(0.0, self._opened_at + self.settings.cooldown_s - self._clock.now())

    def allow(self) -> bool:
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and self._probes < self.settings.half_open_probes:
            self._probes += 1
            return True
        return False

    def check(self) -> None:
        """``allow()``, raising ``CircuitOpen`` (with the reason and Retry-After) when refused."""
        if not self.allow():
            raise self.refusal()

    def refusal(self) -> CircuitOpen:
        if self._state is BreakerState.HALF_OPEN:
            why = f"half-open and its {self.settings.half_open_probes} probe(s) are in flight"
        else:
            why = f"open ({self.reason}); next probe in {self.retry_in():.1f}s"
        return CircuitOpen(
            f"Circuit breaker for deployment {self.deployment!r} is {why}",
            deployment=self.deployment,
            retry_after=self.retry_in() or None,
        )

    def record_success(self) -> None:
        self._window.add("request")
        self._consecutive = 0
        if self._state is BreakerState.HALF_OPEN:
            self._probes = max(0, self._probes - 1)
            self._window.reset()
            self._move(BreakerState.CLOSED, "probe succeeded")

    def record_failure(self) -> None:
        self._window.add("request")
        self._window.add("failure")
        self._consecutive += 1
        if self._state is BreakerState.HALF_OPEN:
            self._probes = max(0, self._probes - 1)
            self._open("probe failed")
            return
        if self._state is not BreakerState.CLOSED:
            return
        s = self.settings
        if self._consecutive >= s.consecutive_failures:
            self._open(f"{self._consecutive} consecutive failures")
            return
        requests = self._window.count("request")
        rate = self._window.count("failure") / requests
        if requests >= s.min_requests and rate >= s.error_rate:
            self._open(f"error rate {rate:.0%} over {requests} requests in {s.window_s:g}s")

    def release(self) -> None:
        """An allowed request ended without a verdict (client error, caller went away)."""
        if self._state is BreakerState.HALF_OPEN:
            self._probes = max(0, self._probes - 1)

    def _open(self, reason: str) -> None:
        self._opened_at = self._clock.now()
        self._move(BreakerState.OPEN, reason)

    def _move(self, state: BreakerState, reason: str) -> None:
        self._state = state
        self.reason = reason
        self.transitions.append((self._clock.now(), state, reason))
        del self.transitions[:-20]


class BreakerProvider:
    """Wraps a provider: refuses with ``CircuitOpen`` while open, and reports every verdict.

    A stream is judged when it ends: a clean end is a success, a break is a failure.
    """

    def __init__(self, inner: Provider, breaker: CircuitBreaker) -> None:
        self.inner = inner
        self.breaker = breaker

    def _judge(self, exc: Exception) -> None:
        # A full local queue sheds load; it says the deployment is busy, not broken.
        if is_client_error(exc) or isinstance(exc, Overloaded):
            self.breaker.release()
        else:
            self.breaker.record_failure()

    async def complete(self, request: ChatRequest) -> JSON:
        self.breaker.check()
        try:
            result = await self.inner.complete(request)
        except Exception as exc:
            self._judge(exc)
            raise
        except BaseException:
            self.breaker.release()
            raise
        self.breaker.record_success()
        return result

    async def stream(self, request: ChatRequest) -> AsyncIterator[JSON]:
        self.breaker.check()
        try:
            async with closing(self.inner.stream(request)) as chunks:
                async for chunk in chunks:
                    yield chunk
        except Exception as exc:
            self._judge(exc)
            raise
        except BaseException:
            self.breaker.release()
            raise
        self.breaker.record_success()

    async def aclose(self) -> None:
        await self.inner.aclose()
