"""``utc_iso``, the text a moment crosses to the writer process as: exact, UTC, and from year 1000 on
the very text the SQLite backend stores (the ledger relies on that to skip the ``datetime``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from interlock.storage.database import as_datetime, to_utc, utc_iso
from interlock.storage.sqlite import _adapt

MOMENTS = [
    datetime(2025, 6, 10, 9, 0, 0, 123_456, tzinfo=UTC),
    datetime(2025, 6, 10, 9, 0, 0, tzinfo=UTC),
    datetime(2025, 6, 10, 23, 59, 59, 999_999, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
    datetime(2025, 6, 10, 9, 0, 0, 7),  # naive: UTC already
    datetime(1000, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
]


@pytest.mark.parametrize("moment", MOMENTS)
def test_utc_iso_is_the_sqlite_text_and_reads_back(moment: datetime) -> None:
    assert utc_iso(moment) == _adapt(moment)
    assert as_datetime(utc_iso(moment)) == to_utc(moment)


def test_a_year_before_1000_reads_back_though_sqlite_writes_it_otherwise() -> None:
    moment = datetime(999, 3, 4, 5, 6, 7, 8, tzinfo=UTC)
    assert utc_iso(moment).startswith("0999-")
    assert as_datetime(utc_iso(moment)) == moment


def test_utc_now_iso_is_utc_iso_of_the_clock_to_the_microsecond(monkeypatch: pytest.MonkeyPatch) -> None:
    import time
    import types

    from interlock.storage import database

    before = datetime.now(UTC)
    stamp = database.utc_now_iso()
    after = datetime.now(UTC)
    read = as_datetime(stamp)
    assert read is not None and before - timedelta(microseconds=1) <= read <= after
    assert utc_iso(read) == stamp
    # the cached date and time of day move on with the second, and on across midnight
    clock = [1_780_000_000.25]
    monkeypatch.setattr(database, "time", types.SimpleNamespace(time=lambda: clock[0], strftime=time.strftime,
                                                                gmtime=time.gmtime))
    for moment in (1_780_000_000.25, 1_780_000_000.999_999, 1_780_000_001.000_002, 1_780_012_800.5, 86_399.75,
                   86_400.0):
        clock[0] = moment
        expected = datetime.fromtimestamp(moment, UTC)
        assert abs(as_datetime(database.utc_now_iso()) - expected) <= timedelta(microseconds=1)  # type: ignore[operator]
        assert database.utc_now_iso()[:19] == expected.isoformat()[:19]
