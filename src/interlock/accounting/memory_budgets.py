"""Budget counters in this process's memory: for a single gateway process and for tests.

Check-and-hold runs under one lock with no await inside, so concurrent reservations
can never jointly pass a limit. A counter starts from ``spent_before`` (the ledger's spend
in the window so far), so a restart or a config reload does not hand out the budget again.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from interlock.accounting.budgets import (
    DEFAULT_HOLD_TTL_S,
    BudgetLimits,
    BudgetStatus,
    BudgetWindow,
    Reservation,
    SpentBefore,
    budget_exceeded,
    check_amount,
    from_nanos,
    to_nanos,
)
from interlock.accounting.periods import WallClock, utc, window_start
from interlock.ids import new_id

_KEEP_AFTER_RESET = timedelta(days=2)


@dataclass
class _Counter:
    window: BudgetWindow
    spent: int = 0
    holds: dict[str, tuple[int, float]] = field(default_factory=dict)

    def held(self, now: float) -> int:
        for rid in [r for r, (_, expires) in self.holds.items() if expires <= now]:
            del self.holds[rid]
        return sum(amount for amount, _ in self.holds.values())


class InMemoryBudgetStore:
    def __init__(
        self,
        limits: BudgetLimits,
        *,
        clock: WallClock = time.time,
        hold_ttl_s: float = DEFAULT_HOLD_TTL_S,
        spent_before: SpentBefore | None = None,
    ) -> None:
        self._limits = limits
        self._spent_before = spent_before
        self._clock = clock
        self._hold_ttl_s = hold_ttl_s
        self._counters: dict[str, _Counter] = {}
        self._lock = threading.Lock()

    async def reserve(self, key_id: str, team: str | None, max_cost: Decimal | None) -> Reservation:
        amount = check_amount(max_cost)
        nanos = to_nanos(amount)
        now = self._clock()
        at = utc(now)
        windows = tuple(BudgetWindow.current(b, at) for b in self._limits.budgets_for(key_id, team))
        reservation = Reservation(new_id(), key_id, team, amount, windows)
        await self._start_counters(windows, at)
        with self._lock:
            self._forget_old(at)
            counters = [self._counter(w) for w in windows]
            for window, counter in zip(windows, counters, strict=True):
                held = counter.held(now)
                if counter.spent + held + nanos > to_nanos(window.budget.limit_usd):
                    raise budget_exceeded(window, counter.spent, held, amount, at)
            for counter in counters:
                counter.holds[reservation.id] = (nanos, now + self._hold_ttl_s)
        return reservation

    async def settle(self, reservation: Reservation, actual_cost: Decimal | None) -> None:
        nanos = to_nanos(check_amount(actual_cost))
        with self._lock:
            for window in reservation.windows:
                counter = self._counter(window)
                counter.holds.pop(reservation.id, None)
                counter.spent += nanos

    async def release(self, reservation: Reservation) -> None:
        with self._lock:
            for window in reservation.windows:
                self._counter(window).holds.pop(reservation.id, None)

    async def status(self, key_id: str, team: str | None) -> list[BudgetStatus]:
        now = self._clock()
        windows = [BudgetWindow.current(b, utc(now)) for b in self._limits.budgets_for(key_id, team)]
        await self._start_counters(windows, utc(now))
        out = []
        with self._lock:
            for window in windows:
                counter = self._counter(window)
                spent, held = from_nanos(counter.spent), from_nanos(counter.held(now))
                out.append(BudgetStatus(window.budget, spent, held, window.resets_at))
        return out

    async def _start_counters(self, windows: Sequence[BudgetWindow], at: datetime) -> None:
        """Create missing counters from what was spent earlier in their window (read in a worker thread)."""
        if self._spent_before is None:
            return
        for window in windows:
            if window.counter_id in self._counters:
                continue
            start = window_start(window.budget.period, at)
            spent = await asyncio.to_thread(self._spent_before, window.budget, start)
            with self._lock:
                if window.counter_id not in self._counters:  # a concurrent first call may have won
                    self._counters[window.counter_id] = _Counter(window, spent=to_nanos(check_amount(spent)))

    def _counter(self, window: BudgetWindow) -> _Counter:
        counter = self._counters.get(window.counter_id)
        if counter is None:
            counter = self._counters[window.counter_id] = _Counter(window)
        return counter

    def _forget_old(self, at: datetime) -> None:
        stale = [cid for cid, c in self._counters.items() if c.window.resets_at + _KEEP_AFTER_RESET < at]
        for cid in stale:
            del self._counters[cid]
