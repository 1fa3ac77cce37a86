"""Budget counters in the gateway's database, for worker processes that share a host but no Redis.

The same protocol and arithmetic as the Redis store: a window's ``spent`` (integer nano-dollars) in
``budget_counters``, holds in ``budget_holds`` with their expiry. Check-and-hold is one transaction
that locks the covering counters first (``BEGIN IMMEDIATE`` on SQLite, ``SELECT ... FOR UPDATE``
on PostgreSQL, in counter order so two reservations never deadlock), so concurrent reservations in
any number of processes can never jointly pass a limit. A window without a counter row starts from
the ledger's spend in the window (``spent_before``); until then settled costs are left to the ledger.
The database calls block, so each runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import timedelta
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
from interlock.storage.database import Database, Transaction

_KEEP_AFTER_RESET = timedelta(days=2)
_CLEANUP_EVERY_S = 300.0

_TABLES = (
    ("CREATE TABLE IF NOT EXISTS budget_counters (counter_id TEXT PRIMARY KEY, spent BIGINT NOT NULL, "
     "expires_at DOUBLE PRECISION NOT NULL)"),
    ("CREATE TABLE IF NOT EXISTS budget_holds (counter_id TEXT NOT NULL, reservation_id TEXT NOT NULL, "
     "amount BIGINT NOT NULL, expires_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (counter_id, reservation_id))"),
    ("CREATE TABLE IF NOT EXISTS rate_counters (slot TEXT PRIMARY KEY, count BIGINT NOT NULL, "
     "expires_at DOUBLE PRECISION NOT NULL)"),
)


def ensure_counter_tables(db: Database) -> None:
    """Create the counter tables if missing (idempotent; serialised between processes)."""
    with db.transaction() as tx:
        if db.dialect.migration_lock:
            tx.execute(db.dialect.migration_lock)
        for statement in _TABLES:
            tx.execute(statement)


def for_update(db: Database) -> str:
    """Row locks where the database has them; SQLite's write transaction already excludes other writers."""
    return " FOR UPDATE" if db.dialect.name == "postgresql" else ""


def marks(n: int) -> str:
    return ", ".join("?" for _ in range(n))


class SqlBudgetStore:
    def __init__(
        self,
        db: Database,
        limits: BudgetLimits,
        *,
        clock: WallClock = time.time,
        hold_ttl_s: float = DEFAULT_HOLD_TTL_S,
        spent_before: SpentBefore | None = None,
        owns_db: bool = False,
    ) -> None:
        """``owns_db``: close ``db`` on ``aclose`` (the store opened it)."""
        self._db = db
        self._limits = limits
        self._clock = clock
        self._hold_ttl_s = hold_ttl_s
        self._spent_before = spent_before
        self._owns_db = owns_db
        self._cleaned_at = clock()
        ensure_counter_tables(db)

    async def reserve(self, key_id: str, team: str | None, max_cost: Decimal | None) -> Reservation:
        amount = check_amount(max_cost)
        now = self._clock()
        at = utc(now)
        windows = tuple(BudgetWindow.current(b, at) for b in self._limits.budgets_for(key_id, team))
        reservation = Reservation(new_id(), key_id, team, amount, windows)
        if not windows:
            return reservation
        nanos = to_nanos(amount)
        for _ in range(2):
            outcome = await asyncio.to_thread(self._hold, windows, reservation.id, nanos, now)
            if not isinstance(outcome, list):
                break
            await self._seed(outcome, now)
        if isinstance(outcome, tuple):
            window, spent, held = outcome
            raise budget_exceeded(window, spent, held, amount, at)
        if now - self._cleaned_at > _CLEANUP_EVERY_S:
            self._cleaned_at = now
            await asyncio.to_thread(self._clean, now)
        return reservation

    async def settle(self, reservation: Reservation, actual_cost: Decimal | None) -> None:
        if reservation.windows:
            nanos = to_nanos(check_amount(actual_cost))
            await asyncio.to_thread(self._finish, reservation, nanos)

    async def release(self, reservation: Reservation) -> None:
        if reservation.windows:
            await asyncio.to_thread(self._finish, reservation, 0)

    async def status(self, key_id: str, team: str | None) -> list[BudgetStatus]:
        now = self._clock()
        windows = tuple(BudgetWindow.current(b, utc(now)) for b in self._limits.budgets_for(key_id, team))
        if not windows:
            return []
        counts = await asyncio.to_thread(self._read, windows, now)
        missing = [w for w in windows if w.counter_id not in counts]
        if missing:
            await self._seed(missing, now)
            counts = await asyncio.to_thread(self._read, windows, now)
        return [
            BudgetStatus(w.budget, from_nanos(counts[w.counter_id][0]), from_nanos(counts[w.counter_id][1]),
                         w.resets_at)
            for w in windows
        ]

    async def aclose(self) -> None:
        if self._owns_db:
            self._db.close()

    # -- blocking parts, each one transaction ------------------------------------------------

    def _hold(
        self, windows: Sequence[BudgetWindow], rid: str, nanos: int, now: float
    ) -> None | list[BudgetWindow] | tuple[BudgetWindow, int, int]:
        """Hold ``nanos`` on every window: None when held, the windows without a counter, or the refusing one."""
        ordered = sorted(windows, key=lambda w: w.counter_id)
        ids = [w.counter_id for w in ordered]
        with self._db.transaction() as tx:
            spent = {str(r[0]): int(r[1]) for r in tx.fetchall(
                f"SELECT counter_id, spent FROM budget_counters WHERE counter_id IN ({marks(len(ids))}) "
                f"ORDER BY counter_id{for_update(self._db)}", ids)}
            missing = [w for w in windows if w.counter_id not in spent]
            if missing:
                return missing
            held = self._held(tx, ids, now)
            for window in windows:
                s, h = spent[window.counter_id], held.get(window.counter_id, 0)
                if s + h + nanos > to_nanos(window.budget.limit_usd):
                    return window, s, h
            tx.executemany(
                "INSERT INTO budget_holds (counter_id, reservation_id, amount, expires_at) VALUES (?, ?, ?, ?)",
                [(cid, rid, nanos, now + self._hold_ttl_s) for cid in ids],
            )
        return None

    def _held(self, tx: Transaction, ids: list[str], now: float) -> dict[str, int]:
        """Drop the windows' expired holds; what the rest hold, by counter."""
        tx.execute(f"DELETE FROM budget_holds WHERE counter_id IN ({marks(len(ids))}) AND expires_at <= ?",
                   [*ids, now])
        rows = tx.fetchall(
            f"SELECT counter_id, SUM(amount) FROM budget_holds WHERE counter_id IN ({marks(len(ids))}) "
            "GROUP BY counter_id", ids)
        return {str(r[0]): int(r[1]) for r in rows}

    def _finish(self, reservation: Reservation, nanos: int) -> None:
        ids = sorted(w.counter_id for w in reservation.windows)
        with self._db.transaction() as tx:
            tx.execute(f"DELETE FROM budget_holds WHERE reservation_id = ? AND counter_id IN ({marks(len(ids))})",
                       [reservation.id, *ids])
            if nanos > 0:  # a window not seeded yet leaves the charge to the ledger it will be seeded from
                tx.execute(f"UPDATE budget_counters SET spent = spent + ? WHERE counter_id IN ({marks(len(ids))})",
                           [nanos, *ids])

    def _read(self, windows: Sequence[BudgetWindow], now: float) -> dict[str, tuple[int, int]]:
        ids = sorted(w.counter_id for w in windows)
        with self._db.transaction() as tx:
            spent = {str(r[0]): int(r[1]) for r in tx.fetchall(
                f"SELECT counter_id, spent FROM budget_counters WHERE counter_id IN ({marks(len(ids))})", ids)}
            held = self._held(tx, ids, now)
        return {cid: (s, held.get(cid, 0)) for cid, s in spent.items()}

    async def _seed(self, windows: Sequence[BudgetWindow], now: float) -> None:
        """Create missing counters from the ledger's spend in their window (a concurrent seed may win)."""
        rows = []
        for window in windows:
            spent = Decimal(0)
            if self._spent_before is not None:
                start = window_start(window.budget.period, utc(now))
                spent = await asyncio.to_thread(self._spent_before, window.budget, start)
            expires = (window.resets_at + _KEEP_AFTER_RESET).timestamp()
            rows.append((window.counter_id, to_nanos(check_amount(spent)), expires))
        await asyncio.to_thread(self._insert_counters, rows)

    def _insert_counters(self, rows: list[tuple[str, int, float]]) -> None:
        with self._db.transaction() as tx:
            tx.executemany(
                "INSERT INTO budget_counters (counter_id, spent, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT (counter_id) DO NOTHING", rows)

    def _clean(self, now: float) -> None:
        """Forget windows two days past their reset, and holds long expired."""
        with self._db.transaction() as tx:
            tx.execute("DELETE FROM budget_counters WHERE expires_at < ?", [now])
            tx.execute("DELETE FROM budget_holds WHERE expires_at < ?", [now])
            tx.execute("DELETE FROM rate_counters WHERE expires_at < ?", [now])
