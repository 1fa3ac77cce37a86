"""Circuit breaker per deployment: closed, open, half-open; time comes from an injected clock.

Closed: traffic flows; the breaker opens when, for one kind of call (``complete``, ``stream``,
``embed``), at least ``min_requests`` finished in the window and their error rate reached
``error_rate``, or after ``consecutive_failures`` failures of that kind in a row, when such a run
is out of character: the window before it is too short to say, or its error rate makes the run
less likely than ``UNLIKELY_RUN`` (a deployment that fails 30% of calls and still answers the rest
is not taken out by a chance run of five; one that was healthy and goes down is, at once).
Counting per kind keeps the successful calls of one kind from hiding a deployment that breaks
half its streams. Open: nothing is sent until
``cooldown_s`` has passed. Half-open: at most ``half_open_probes`` requests go through at once; a
success closes it, a failure reopens it.

Every ``allow()`` that returns True must be followed by exactly one of ``record_success``,
``record_failure`` or ``release`` (no verdict); ``resilience.guard.GuardedProvider`` does that for you.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from interlock.errors import CircuitOpen
from interlock.resilience.clock import Clock
from interlock.resilience.window import WindowCounter

# A run of failures this unlikely under the recent error rate says something changed.
UNLIKELY_RUN = 1e-4


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
        self._consecutive: dict[str, int] = {}
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

    def record_success(self, kind: str = "complete") -> None:
        self._window.add("request:" + kind)
        self._consecutive[kind] = 0
        if self._state is BreakerState.HALF_OPEN:
            self._probes = max(0, self._probes - 1)
            self._window.reset()
            self._move(BreakerState.CLOSED, "probe succeeded")

    def record_failure(self, kind: str = "complete") -> None:
        self._window.add("request:" + kind)
        self._window.add("failure:" + kind)
        self._consecutive[kind] = self._consecutive.get(kind, 0) + 1
        if self._state is BreakerState.HALF_OPEN:
            self._probes = max(0, self._probes - 1)
            self._open("probe failed")
            return
        if self._state is not BreakerState.CLOSED:
            return
        s = self.settings
        requests = self._window.count("request:" + kind)
        rate = self._window.count("failure:" + kind) / requests
        calls = "" if kind == "complete" else f" {kind}"
        if requests >= s.min_requests and rate >= s.error_rate:
            self._open(f"error rate {rate:.0%} over {requests}{calls} requests in {s.window_s:g}s")
        elif self._consecutive[kind] >= s.consecutive_failures and self._run_is_unlikely(kind, requests):
            self._open(f"{self._consecutive[kind]} consecutive{calls} failures")

    def _run_is_unlikely(self, kind: str, requests: int) -> bool:
        run = self._consecutive[kind]
        before = requests - run
        if before < self.settings.min_requests:
            return True  # too little history to call the run chance
        failed_before = max(0, self._window.count("failure:" + kind) - run)
        return float((failed_before / before) ** run) <= UNLIKELY_RUN

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
