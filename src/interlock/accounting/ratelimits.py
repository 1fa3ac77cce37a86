"""Requests- and tokens-per-minute limits per key, refused with ``RateLimited``.

A ``fixed`` window counts within each clock minute. A ``sliding`` window weighs the
previous minute's count by how much of it still overlaps the last 60 s::

    estimate = previous * (1 - elapsed_fraction) + current

A call is admitted when ``estimate + its amount <= limit``. Token counts taken at
admission are estimates (prompt plus ``max_tokens``); ``settle_tokens`` corrects them to
the actual count in the window where they were taken.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Literal, Protocol

from interlock.accounting.periods import WallClock
from interlock.errors import InvalidRequest, RateLimited

WINDOW_S = 60.0

Metric = Literal["requests", "tokens"]


@dataclass(frozen=True, slots=True)
class RateLimits:
    rpm: int | None = None
    tpm: int | None = None
    window: Literal["sliding", "fixed"] = "sliding"

    def __post_init__(self) -> None:
        for name in ("rpm", "tpm"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1 (omit it for no limit), not {value}")


@dataclass(frozen=True, slots=True)
class RateTicket:
    """What ``acquire`` counted, so ``settle_tokens`` can correct the same window."""

    key_id: str
    window_index: int
    tokens: int


class RateLimiter(Protocol):
    async def acquire(self, key_id: str, limits: RateLimits, tokens: int) -> RateTicket: ...

    async def settle_tokens(self, ticket: RateTicket, actual_tokens: int) -> None: ...


def seconds_until_admitted(
    limit: int, amount: int, current: int, previous: int, elapsed: float, sliding: bool
) -> float:
    """0 if ``amount`` fits now, else how long until it would (``elapsed`` is a fraction)."""
    carried = previous * (1 - elapsed) if sliding else 0.0
    if carried + current + amount <= limit:
        return 0.0
    if not sliding:
        return (1 - elapsed) * WINDOW_S
    if current + amount <= limit:
        # Still in this window, once enough of the previous one has slid out.
        needed = 1 - (limit - current - amount) / previous
        return (needed - elapsed) * WINDOW_S
    # Only in the next window, where this window's count becomes "previous".
    needed_next = max(0.0, 1 - (limit - amount) / current)
    return (1 - elapsed + needed_next) * WINDOW_S


def window_position(now: float) -> tuple[int, float]:
    """The minute ``now`` falls in, and the fraction of it already elapsed."""
    index = int(now // WINDOW_S)
    return index, (now - index * WINDOW_S) / WINDOW_S


def check_fits(key_id: str, limits: RateLimits, tokens: int) -> None:
    """A call larger than the whole per-minute allowance can never pass; say so once."""
    if limits.tpm is not None and tokens > limits.tpm:
        raise InvalidRequest(
            f"This call may use up to {tokens} tokens, more than key {key_id!r} may use in a "
            f"minute ({limits.tpm}); lower max_tokens or shorten the prompt.",
            param="max_tokens",
            code="tokens_exceed_rate_limit",
        )


def rate_limited(key_id: str, metric: Metric, limit: int, wait: float) -> RateLimited:
    unit = "requests" if metric == "requests" else "tokens"
    return RateLimited(
        f"Rate limit reached for key {key_id!r}: {limit} {unit} per minute. Retry after {math.ceil(wait)}s.",
        retry_after=wait,
    )


class InMemoryRateLimiter:
    def __init__(self, *, clock: WallClock = time.time) -> None:
        self._clock = clock
        self._counts: dict[tuple[str, Metric, int], int] = {}
        self._lock = threading.Lock()

    async def acquire(self, key_id: str, limits: RateLimits, tokens: int) -> RateTicket:
        index, elapsed = window_position(self._clock())
        ticket = RateTicket(key_id, index, tokens)
        if limits.rpm is None and limits.tpm is None:
            return ticket
        check_fits(key_id, limits, tokens)
        wanted: list[tuple[Metric, int | None, int]] = [
            ("requests", limits.rpm, 1),
            ("tokens", limits.tpm, tokens),
        ]
        with self._lock:
            self._forget_before(index - 1)
            for metric, limit, amount in wanted:
                if limit is None:
                    continue
                current = self._counts.get((key_id, metric, index), 0)
                previous = self._counts.get((key_id, metric, index - 1), 0)
                wait = seconds_until_admitted(
                    limit, amount, current, previous, elapsed, limits.window == "sliding"
                )
                if wait > 0:
                    raise rate_limited(key_id, metric, limit, wait)
            for metric, limit, amount in wanted:
                if limit is not None:
                    slot = (key_id, metric, index)
                    self._counts[slot] = self._counts.get(slot, 0) + amount
        return ticket

    async def settle_tokens(self, ticket: RateTicket, actual_tokens: int) -> None:
        slot = (ticket.key_id, "tokens", ticket.window_index)
        with self._lock:
            if slot in self._counts:
                self._counts[slot] = max(0, self._counts[slot] + actual_tokens - ticket.tokens)

    def _forget_before(self, index: int) -> None:
        if len(self._counts) < 4096:
            return
        for slot in [s for s in self._counts if s[2] < index]:
            del self._counts[slot]
