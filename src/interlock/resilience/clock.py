"""Time for the resilience layer: a ``Clock`` Protocol, the real monotonic clock and a manual one.

Every state machine here (breaker, budgets, health windows, hedge and timeout deadlines)
reads time through a ``Clock`` so tests can drive it deterministically.

Deadlines are a ``timeout()`` context manager that cancels the *current* task, like
``asyncio.timeout``: an upstream stream is therefore always advanced from one task, and the
context managers inside a provider (sessions, cancel scopes) enter and exit in the same task.
``Deadline.reschedule_in`` moves a deadline that is in force (``None`` disarms it), so a stream's
limits take one deadline for its whole life rather than one per chunk; it binds the deadline to
the task running at that moment, so a stream may be read by another task after its first chunk.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Protocol, runtime_checkable


@runtime_checkable
class Deadline(Protocol):
    """What ``Clock.timeout`` returns: an async context manager that can say whether it fired."""

    async def __aenter__(self) -> Deadline: ...

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> bool | None: ...

    def expired(self) -> bool: ...

    def reschedule_in(self, seconds: float | None) -> None:
        """Fire ``seconds`` from now, in the task running now (None: disarmed until rescheduled)."""
        ...


@runtime_checkable
class Clock(Protocol):
    def now(self) -> float:
        """Monotonic seconds; only differences are meaningful."""
        ...

    async def sleep(self, seconds: float) -> None: ...

    def timeout(self, seconds: float | None) -> Deadline:
        """Raise ``TimeoutError`` out of the block if it runs longer than ``seconds`` (None: no limit)."""
        ...


class MonotonicClock:
    """The real clock: ``time.monotonic`` and the running event loop's timers."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def timeout(self, seconds: float | None) -> Deadline:
        return _LoopDeadline(seconds)


class _LoopDeadline:
    """``asyncio.timeout`` on the event loop's timers, plus ``reschedule_in``.

    Moving the deadline is a check, not a new timer: the timer stays where it is while the deadline
    moves later (a stream's next stall limit), and when it fires early it re-arms for the deadline
    then in force. A stream whose chunks keep coming re-arms about once per limit, not per chunk.
    """

    __slots__ = ("_seconds", "_loop", "_task", "_cancelling", "_handle", "_due", "_expired")

    def __init__(self, seconds: float | None) -> None:
        self._seconds = seconds
        self._task: asyncio.Task[object] | None = None
        self._cancelling = 0
        self._handle: asyncio.TimerHandle | None = None
        self._due: float | None = None  # loop time; None: disarmed
        self._expired = False

    def expired(self) -> bool:
        return self._expired

    async def __aenter__(self) -> _LoopDeadline:
        self._loop = asyncio.get_running_loop()
        self.reschedule_in(self._seconds)
        return self

    def reschedule_in(self, seconds: float | None) -> None:
        if seconds is None or self._expired:
            self._due = None  # a timer still pending finds nothing due and lapses
            return
        loop = self._loop
        task = asyncio.current_task(loop)
        if task is not self._task:
            assert task is not None, "a deadline needs a running task"
            self._task, self._cancelling = task, task.cancelling()
        due = self._due = loop.time() + seconds
        handle = self._handle
        if handle is None or handle.when() > due:
            if handle is not None:
                handle.cancel()
            self._handle = loop.call_at(due, self._check)

    def _check(self) -> None:
        self._handle = None
        due = self._due
        if due is None:
            return
        if due > self._loop.time() + _RESOLUTION:  # the deadline moved on since this timer was set
            self._handle = self._loop.call_at(due, self._check)
            return
        self._expired = True
        if self._task is not None:
            self._task.cancel()

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        self._due = None
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        # as asyncio.timeout does: take back our cancel; only it (not an outer one) becomes TimeoutError
        if self._expired and self._task is not None:
            if self._task.uncancel() <= self._cancelling and et is asyncio.CancelledError:
                raise TimeoutError from e
        return None


_RESOLUTION = 1e-3  # the loop may run a timer up to its clock resolution early; that is on time


class ManualClock:
    """A clock that only moves when told to; for deterministic tests.

    With ``auto_advance=True`` a ``sleep(s)`` moves time forward by ``s`` at once (handy for
    retry backoff); otherwise sleepers and deadlines wait until ``advance()`` passes them.
    Every sleep is recorded in ``sleeps``.
    """

    def __init__(self, start: float = 1000.0, *, auto_advance: bool = False) -> None:
        self._now = start
        self.auto_advance = auto_advance
        self.sleeps: list[float] = []
        self._timers: list[tuple[float, int, _Timer]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward, waking every sleeper and firing every deadline that falls due."""
        if seconds < 0:
            raise ValueError("time does not go backwards")
        self._now += seconds
        while self._timers and self._timers[0][0] <= self._now:
            _, _, timer = heapq.heappop(self._timers)
            timer.fire()

    async def sleep(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        self.sleeps.append(seconds)
        if self.auto_advance:
            self.advance(seconds)
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not fut.done():
                fut.set_result(None)

        self._schedule(self._now + seconds, _Timer(wake))
        await fut

    def timeout(self, seconds: float | None) -> Deadline:
        return _ManualDeadline(self, seconds)

    def _schedule(self, when: float, timer: _Timer) -> None:
        if when <= self._now:
            asyncio.get_running_loop().call_soon(timer.fire)
            return
        heapq.heappush(self._timers, (when, next(self._seq), timer))


class _Timer:
    def __init__(self, callback: Callable[[], None]) -> None:
        self._callback = callback
        self.cancelled = False

    def fire(self) -> None:
        if not self.cancelled:
            self.cancelled = True
            self._callback()


class _ManualDeadline(AbstractAsyncContextManager["_ManualDeadline"]):
    """``asyncio.timeout`` semantics on a ``ManualClock``: cancel the task, surface ``TimeoutError``."""

    def __init__(self, clock: ManualClock, seconds: float | None) -> None:
        self._clock = clock
        self._seconds = seconds
        self._task: asyncio.Task[object] | None = None
        self._timer: _Timer | None = None
        self._expired = False
        self._cancelling = 0

    def expired(self) -> bool:
        return self._expired

    def _fire(self) -> None:
        self._expired = True
        if self._task is not None:
            self._task.cancel()

    async def __aenter__(self) -> _ManualDeadline:
        self._task = asyncio.current_task()
        self._cancelling = self._task.cancelling() if self._task is not None else 0
        self.reschedule_in(self._seconds)
        return self

    def reschedule_in(self, seconds: float | None) -> None:
        if self._timer is not None:
            self._timer.cancelled = True
            self._timer = None
        if seconds is None or self._expired:
            return
        task = asyncio.current_task()
        if task is not self._task:
            self._task = task
            self._cancelling = task.cancelling() if task is not None else 0
        self._timer = _Timer(self._fire)
        self._clock._schedule(self._clock.now() + max(0.0, seconds), self._timer)

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        if self._timer is not None:
            self._timer.cancelled = True
        # as asyncio.timeout does: take back our cancel; only it (not an outer one) becomes TimeoutError
        if self._expired and self._task is not None:
            if self._task.uncancel() <= self._cancelling and et is asyncio.CancelledError:
                raise TimeoutError from e
        return None
