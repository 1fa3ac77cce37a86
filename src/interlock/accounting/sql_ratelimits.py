"""Per-key RPM/TPM limits in the gateway's database, shared by worker processes without Redis.

The same arithmetic as ``ratelimits.seconds_until_admitted``; a minute's count is a row of
``rate_counters``. Check-and-count is one transaction over the key's rows (locked ``FOR UPDATE``
on PostgreSQL; SQLite's write transaction excludes other writers), so it is atomic across processes.
"""

from __future__ import annotations

import asyncio
import time

from interlock.accounting.periods import WallClock
from interlock.accounting.ratelimits import (
    WINDOW_S,
    Metric,
    RateLimits,
    RateTicket,
    check_fits,
    rate_limited,
    seconds_until_admitted,
    window_position,
)
from interlock.accounting.sql_budgets import ensure_counter_tables, for_update, marks
from interlock.storage.database import Database

_METRICS: tuple[Metric, Metric] = ("requests", "tokens")


def _slot(key_id: str, metric: Metric, index: int) -> str:
    return f"{key_id}:{metric}:{index}"


class SqlRateLimiter:
    def __init__(self, db: Database, *, clock: WallClock = time.time) -> None:
        self._db = db
        self._clock = clock
        ensure_counter_tables(db)

    async def acquire(self, key_id: str, limits: RateLimits, tokens: int) -> RateTicket:
        now = self._clock()
        index, elapsed = window_position(now)
        ticket = RateTicket(key_id, index, tokens)
        if limits.rpm is None and limits.tpm is None:
            return ticket
        check_fits(key_id, limits, tokens)
        refused = await asyncio.to_thread(self._count, key_id, limits, tokens, index, elapsed, now)
        if refused is not None:
            metric, limit, wait = refused
            raise rate_limited(key_id, metric, limit, wait)
        return ticket

    async def settle_tokens(self, ticket: RateTicket, actual_tokens: int) -> None:
        delta = actual_tokens - ticket.tokens
        if delta:
            await asyncio.to_thread(self._correct, _slot(ticket.key_id, "tokens", ticket.window_index), delta)

    def _count(
        self, key_id: str, limits: RateLimits, tokens: int, index: int, elapsed: float, now: float
    ) -> tuple[Metric, int, float] | None:
        candidates: list[tuple[Metric, int | None, int]] = [("requests", limits.rpm, 1), ("tokens", limits.tpm, tokens)]
        wanted = [(m, limit, amount) for m, limit, amount in candidates if limit is not None]
        current = [_slot(key_id, m, index) for m, _, _ in wanted]
        slots = sorted(current + [_slot(key_id, m, index - 1) for m, _, _ in wanted])
        with self._db.transaction() as tx:
            # the current minute's rows exist before they are locked, so first calls queue up too
            tx.executemany(
                "INSERT INTO rate_counters (slot, count, expires_at) VALUES (?, 0, ?) ON CONFLICT (slot) DO NOTHING",
                [(s, now + 3 * WINDOW_S) for s in current])
            counts = {str(r[0]): int(r[1]) for r in tx.fetchall(
                f"SELECT slot, count FROM rate_counters WHERE slot IN ({marks(len(slots))}) "
                f"ORDER BY slot{for_update(self._db)}", slots)}
            for metric, limit, amount in wanted:
                wait = seconds_until_admitted(
                    limit, amount, counts.get(_slot(key_id, metric, index), 0),
                    counts.get(_slot(key_id, metric, index - 1), 0), elapsed, limits.window == "sliding")
                if wait > 0:
                    return metric, limit, wait
            tx.executemany("UPDATE rate_counters SET count = count + ? WHERE slot = ?",
                           [(amount, _slot(key_id, metric, index)) for metric, _, amount in wanted])
        return None

    def _correct(self, slot: str, delta: int) -> None:
        with self._db.transaction() as tx:
            tx.execute("UPDATE rate_counters SET count = CASE WHEN count + ? < 0 THEN 0 ELSE count + ? END "
                       "WHERE slot = ?", [delta, delta, slot])
