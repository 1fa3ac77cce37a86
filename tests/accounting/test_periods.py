from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from interlock.accounting.periods import Period, next_reset, window_id, window_start


def test_a_day_runs_from_utc_midnight_to_utc_midnight() -> None:
    at = datetime(2025, 6, 14, 23, 30, tzinfo=UTC)
    assert window_start(Period.DAY, at) == datetime(2025, 6, 14, tzinfo=UTC)
    assert next_reset(Period.DAY, at) == datetime(2025, 6, 15, tzinfo=UTC)
    assert window_id(Period.DAY, at) == "2025-06-14"


def test_a_month_renews_on_the_first_and_december_rolls_the_year() -> None:
    at = datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert window_start(Period.MONTH, at) == datetime(2025, 12, 1, tzinfo=UTC)
    assert next_reset(Period.MONTH, at) == datetime(2026, 1, 1, tzinfo=UTC)
    assert window_id(Period.MONTH, at) == "2025-12"


def test_periods_are_computed_in_utc_whatever_the_input_zone() -> None:
    tokyo = timezone(timedelta(hours=9))
    at = datetime(2025, 7, 1, 8, 0, tzinfo=tokyo)  # 2025-06-30 23:00 UTC
    assert window_id(Period.MONTH, at) == "2025-06"
    assert next_reset(Period.DAY, at) == datetime(2025, 7, 1, tzinfo=UTC)
