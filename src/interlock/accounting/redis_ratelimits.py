"""Per-key RPM/TPM limits in Redis, shared by every gateway process.

The same arithmetic as ``ratelimits.seconds_until_admitted``, run as one Lua script
over the current and previous minute's counters so check-and-count is atomic.
"""

from __future__ import annotations

import time
from typing import Any

from redis import RedisError
from redis.asyncio import Redis

from interlock.accounting.periods import WallClock
from interlock.accounting.ratelimits import (
    WINDOW_S,
    Metric,
    RateLimits,
    RateTicket,
    check_fits,
    rate_limited,
    window_position,
)
from interlock.errors import Overloaded

# KEYS: requests (current, previous), tokens (current, previous).
# ARGV: elapsed fraction, sliding (1|0), rpm (-1: none), tpm (-1: none), tokens, ttl, window seconds.
_ACQUIRE = """
local elapsed, sliding, window = tonumber(ARGV[1]), ARGV[2] == '1', tonumber(ARGV[7])
local function wait(limit, amount, cur, prev)
  local carried = 0
  if sliding then carried = prev * (1 - elapsed) end
  if carried + cur + amount <= limit then return 0 end
  if not sliding then return (1 - elapsed) * window end
  if cur + amount <= limit then return (1 - (limit - cur - amount) / prev - elapsed) * window end
  local nxt = math.max(0, 1 - (limit - amount) / cur)
  return (1 - elapsed + nxt) * window
end
local checks = {{tonumber(ARGV[3]), 1, 1}, {tonumber(ARGV[4]), tonumber(ARGV[5]), 3}}
for m, c in ipairs(checks) do
  if c[1] >= 0 then
    local cur = tonumber(redis.call('GET', KEYS[c[3]]) or '0')
    local prev = tonumber(redis.call('GET', KEYS[c[3] + 1]) or '0')
    local w = wait(c[1], c[2], cur, prev)
    if w > 0 then return {m, tostring(w)} end
  end
end
for _, c in ipairs(checks) do
  if c[1] >= 0 then
    redis.call('INCRBY', KEYS[c[3]], c[2])
    redis.call('EXPIRE', KEYS[c[3]], tonumber(ARGV[6]))
  end
end
return {0, '0'}
"""

# Corrects a window's token count by ARGV[1], never below zero, if it still exists.
_SETTLE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local v = redis.call('INCRBY', KEYS[1], ARGV[1])
if v < 0 then redis.call('SET', KEYS[1], 0, 'KEEPTTL') end
return 1
"""

_METRICS: tuple[Metric, Metric] = ("requests", "tokens")


class RedisRateLimiter:
    def __init__(self, client: Redis, *, prefix: str = "interlock:", clock: WallClock = time.time) -> None:
        self._client = client
        self._prefix = prefix
        self._clock = clock
        self._owns_client = False
        self._acquire = client.register_script(_ACQUIRE)
        self._settle = client.register_script(_SETTLE)

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisRateLimiter:
        limiter = cls(Redis.from_url(url), **kwargs)
        limiter._owns_client = True
        return limiter

    async def aclose(self) -> None:
        """Close the connection pool if this limiter opened it (``from_url``)."""
        if self._owns_client:
            await self._client.aclose()

    async def acquire(self, key_id: str, limits: RateLimits, tokens: int) -> RateTicket:
        index, elapsed = window_position(self._clock())
        ticket = RateTicket(key_id, index, tokens)
        if limits.rpm is None and limits.tpm is None:
            return ticket
        check_fits(key_id, limits, tokens)
        keys = [self._key(key_id, m, i) for m in _METRICS for i in (index, index - 1)]
        args: list[Any] = [
            repr(elapsed),
            1 if limits.window == "sliding" else 0,
            -1 if limits.rpm is None else limits.rpm,
            -1 if limits.tpm is None else limits.tpm,
            tokens,
            int(WINDOW_S * 3),
            WINDOW_S,
        ]
        refused, wait = await self._call(self._acquire, keys, args)
        if int(refused):
            metric = _METRICS[int(refused) - 1]
            limit = limits.rpm if metric == "requests" else limits.tpm
            raise rate_limited(key_id, metric, limit or 0, float(wait))
        return ticket

    async def settle_tokens(self, ticket: RateTicket, actual_tokens: int) -> None:
        delta = actual_tokens - ticket.tokens
        if delta:
            key = self._key(ticket.key_id, "tokens", ticket.window_index)
            await self._call(self._settle, [key], [delta])

    def _key(self, key_id: str, metric: Metric, index: int) -> str:
        return f"{self._prefix}rate:{key_id}:{metric}:{index}"

    async def _call(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        try:
            return await script(keys=keys, args=args)
        except RedisError as exc:
            raise Overloaded(f"rate limit store unavailable: {type(exc).__name__}", retry_after=1.0) from exc
