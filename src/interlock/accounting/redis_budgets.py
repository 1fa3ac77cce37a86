"""Budget counters in Redis, so several gateway processes share one budget.

Each budget window is four keys: ``spent`` (integer nano-dollars), ``holds`` (hash of
reservation id to amount), ``exp`` (sorted set of reservation id by hold expiry) and ``seeded``.
Check-and-hold across every covering budget is one Lua script, so it is atomic across
processes. Time comes from the caller's clock and is passed into the scripts.
Redis failures surface as ``Overloaded`` (the gateway fails closed, not open).

A window without ``seeded`` (Redis restarted empty, or evicted the keys) starts from the ledger's
spend in the window (``spent_before``), so losing Redis never hands a period's budget out again.
Until a window is seeded, settled costs are left to the ledger that seeding reads.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypeVar

from redis import RedisError
from redis.asyncio import Redis

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
from interlock.errors import Overloaded
from interlock.ids import new_id

T = TypeVar("T")
_KEEP_AFTER_RESET = timedelta(days=2)

# Drops expired holds of window i and leaves spent and held in s, h.
_PRUNE = """
local function load(i, now)
  local spent_key, holds_key, exp_key = KEYS[4*i-3], KEYS[4*i-2], KEYS[4*i-1]
  local expired = redis.call('ZRANGEBYSCORE', exp_key, '-inf', now)
  for _, rid in ipairs(expired) do redis.call('HDEL', holds_key, rid) end
  if #expired > 0 then redis.call('ZREMRANGEBYSCORE', exp_key, '-inf', now) end
  local h = 0
  for _, v in ipairs(redis.call('HVALS', holds_key)) do h = h + tonumber(v) end
  return tonumber(redis.call('GET', spent_key) or '0'), h
end
"""

# ARGV: now, hold expiry, reservation id, amount, then (limit, ttl) per window.
# Returns {i, spent, held} for the window that refuses, {-i, 0, 0} for one not seeded yet, else zeros.
_RESERVE = (
    _PRUNE
    + """
local now, amount, n = tonumber(ARGV[1]), tonumber(ARGV[4]), #KEYS / 4
for i = 1, n do
  if redis.call('EXISTS', KEYS[4*i]) == 0 then return {-i, 0, 0} end
end
for i = 1, n do
  local s, h = load(i, now)
  if s + h + amount > tonumber(ARGV[3 + 2*i]) then return {i, s, h} end
end
for i = 1, n do
  local ttl = tonumber(ARGV[4 + 2*i])
  redis.call('HSET', KEYS[4*i-2], ARGV[3], ARGV[4])
  redis.call('ZADD', KEYS[4*i-1], ARGV[2], ARGV[3])
  for k = 4*i-3, 4*i do redis.call('EXPIRE', KEYS[k], ttl) end
end
return {0, 0, 0}
"""
)

# ARGV: reservation id, actual amount (0 to release without charge), then ttl per window.
_SETTLE = """
for i = 1, #KEYS / 4 do
  redis.call('HDEL', KEYS[4*i-2], ARGV[1])
  redis.call('ZREM', KEYS[4*i-1], ARGV[1])
  if tonumber(ARGV[2]) > 0 and redis.call('EXISTS', KEYS[4*i]) == 1 then
    redis.call('INCRBY', KEYS[4*i-3], ARGV[2])
    redis.call('EXPIRE', KEYS[4*i-3], tonumber(ARGV[2 + i]))
  end
end
return 0
"""

# KEYS: one window's four keys. ARGV: spent from the ledger (or '' to keep what Redis has), ttl.
_SEED = """
if redis.call('EXISTS', KEYS[4]) == 0 then
  if ARGV[1] ~= '' then redis.call('SET', KEYS[1], ARGV[1]) end
  redis.call('SET', KEYS[4], '1')
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
  redis.call('EXPIRE', KEYS[4], tonumber(ARGV[2]))
end
return 0
"""

# ARGV: now. Returns spent, held per window, or {-i} for a window not seeded yet.
_STATUS = (
    _PRUNE
    + """
local out = {}
for i = 1, #KEYS / 4 do
  if redis.call('EXISTS', KEYS[4*i]) == 0 then return {-i} end
  local s, h = load(i, tonumber(ARGV[1]))
  out[2*i-1], out[2*i] = s, h
end
return out
"""
)


class RedisBudgetStore:
    def __init__(
        self,
        client: Redis,
        limits: BudgetLimits,
        *,
        prefix: str = "interlock:",
        clock: WallClock = time.time,
        hold_ttl_s: float = DEFAULT_HOLD_TTL_S,
        spent_before: SpentBefore | None = None,
    ) -> None:
        self._client = client
        self._limits = limits
        self._prefix = prefix
        self._clock = clock
        self._hold_ttl_s = hold_ttl_s
        self._spent_before = spent_before
        self._owns_client = False
        self._reserve = client.register_script(_RESERVE)
        self._settle = client.register_script(_SETTLE)
        self._status = client.register_script(_STATUS)
        self._seed = client.register_script(_SEED)

    @classmethod
    def from_url(cls, url: str, limits: BudgetLimits, **kwargs: Any) -> RedisBudgetStore:
        store = cls(Redis.from_url(url), limits, **kwargs)
        store._owns_client = True
        return store

    async def reserve(self, key_id: str, team: str | None, max_cost: Decimal | None) -> Reservation:
        amount = check_amount(max_cost)
        now = self._clock()
        at = utc(now)
        windows = tuple(BudgetWindow.current(b, at) for b in self._limits.budgets_for(key_id, team))
        reservation = Reservation(new_id(), key_id, team, amount, windows)
        if not windows:
            return reservation
        args: list[Any] = [now, now + self._hold_ttl_s, reservation.id, to_nanos(amount)]
        for window in windows:
            args += [to_nanos(window.budget.limit_usd), self._ttl(window, now)]
        for _ in range(len(windows) + 1):
            refused, spent, held = await self._call(self._reserve, self._keys(windows), args)
            if refused >= 0:
                break
            await self._seed_window(windows[-refused - 1], now)
        if refused:
            raise budget_exceeded(windows[refused - 1], int(spent), int(held), amount, at)
        return reservation

    async def settle(self, reservation: Reservation, actual_cost: Decimal | None) -> None:
        await self._finish(reservation, to_nanos(check_amount(actual_cost)))

    async def release(self, reservation: Reservation) -> None:
        await self._finish(reservation, 0)

    async def status(self, key_id: str, team: str | None) -> list[BudgetStatus]:
        now = self._clock()
        windows = tuple(BudgetWindow.current(b, utc(now)) for b in self._limits.budgets_for(key_id, team))
        if not windows:
            return []
        for _ in range(len(windows) + 1):
            raw = await self._call(self._status, self._keys(windows), [now])
            if int(raw[0]) >= 0:
                break
            await self._seed_window(windows[-int(raw[0]) - 1], now)
        return [
            BudgetStatus(w.budget, from_nanos(int(raw[2 * i])), from_nanos(int(raw[2 * i + 1])), w.resets_at)
            for i, w in enumerate(windows)
        ]

    async def aclose(self) -> None:
        """Close the connection pool if this store opened it (``from_url``)."""
        if self._owns_client:
            await self._client.aclose()

    async def _finish(self, reservation: Reservation, nanos: int) -> None:
        if not reservation.windows:
            return
        now = self._clock()
        ttls = [self._ttl(w, now) for w in reservation.windows]
        await self._call(self._settle, self._keys(reservation.windows), [reservation.id, nanos, *ttls])

    async def _seed_window(self, window: BudgetWindow, now: float) -> None:
        """Start a window's counter from the ledger's spend in it (read in a worker thread)."""
        spent = ""
        if self._spent_before is not None:
            start = window_start(window.budget.period, utc(now))
            amount = await asyncio.to_thread(self._spent_before, window.budget, start)
            spent = str(to_nanos(check_amount(amount)))
        await self._call(self._seed, self._keys((window,)), [spent, self._ttl(window, now)])

    def _keys(self, windows: tuple[BudgetWindow, ...]) -> list[str]:
        base = [f"{self._prefix}budget:{w.counter_id}" for w in windows]
        return [f"{b}:{part}" for b in base for part in ("spent", "holds", "exp", "seeded")]

    def _ttl(self, window: BudgetWindow, now: float) -> int:
        return max(60, int((window.resets_at + _KEEP_AFTER_RESET).timestamp() - now))

    async def _call(self, script: Callable[..., Awaitable[T]], keys: list[str], args: list[Any]) -> T:
        try:
            return await script(keys=keys, args=args)
        except RedisError as exc:
            raise Overloaded(f"budget store unavailable: {type(exc).__name__}", retry_after=1.0) from exc
