"""Budget periods (calendar day or month, in UTC) and the injected clock.

Time always comes from a ``WallClock`` (seconds since the epoch, like ``time.time``) passed
in by the caller, so tests step through period boundaries deterministically. Wall time, not
the resilience layer's monotonic clock, because periods reset at calendar boundaries.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum

WallClock = Callable[[], float]
"""Returns the current time as seconds since the epoch; ``time.time`` in production."""


class Period(StrEnum):
    DAY = "day"
    MONTH = "month"

    @property
    def adjective(self) -> str:
        return "daily" if self is Period.DAY else "monthly"


def utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


def window_start(period: Period, at: datetime) -> datetime:
    """Start of the period containing ``at`` (midnight UTC, or the 1st of the month)."""
    at = at.astimezone(UTC)
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    return day if period is Period.DAY else day.replace(day=1)


def next_reset(period: Period, at: datetime) -> datetime:
    """When the period containing ``at`` ends and its budget renews."""
    start = window_start(period, at)
    if period is Period.DAY:
        return start + timedelta(days=1)
    if start.month == 12:
        return start.replace(year=start.year + 1, month=1)
    return start.replace(month=start.month + 1)


def window_id(period: Period, at: datetime) -> str:
    """A stable name for the window containing ``at``: ``2025-06-01`` or ``2025-06``."""
    start = window_start(period, at)
    return start.strftime("%Y-%m-%d" if period is Period.DAY else "%Y-%m")
