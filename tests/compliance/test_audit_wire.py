"""The audit log's wire form: entries reach the writer process as tuples of plain values, and the rows
chained from them carry exactly the JSON and the hashes ``record_hash`` defines, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
from services import pg_audit_url, pg_schema, postgres_url  # noqa: F401  (fixtures)

from interlock.compliance.audit import (
    GENESIS,
    ROW_COLUMNS,
    AuditEntry,
    AuditLog,
    AuditStore,
    Recipient,
    _timestamp,
    chain_rows,
    entry_wire,
    record_hash,
)
from interlock.compliance.audit_postgres import PostgresAuditLog


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, 9, 0, 0, 999_999, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1, microseconds=1)
        return self.now


class Action(StrEnum):
    ROUTE = "route"


def _entries(n: int, seed: int = 5, *, odd_keys: bool = True) -> list[AuditEntry]:
    """Entries of every shape; ``odd_keys``: key ids of other types too (no database stores those alike)."""
    rnd = random.Random(seed)

    def pick(values: list[Any]) -> Any:
        return values[rnd.randrange(len(values))]

    out = []
    for i in range(n):
        sent = [Recipient(pick(["d1", "dé", 'q"d']), pick(["allow", "redact"]), pick([None, "internal"]), pick([None, "eu"]))
                for _ in range(rnd.randrange(3))]
        out.append(AuditEntry(
            request_id=pick([f"req-{i}", f"réq\n{i}"]),
            data_classes=pick([[], ["personal"], ["secret", "health"], ["zeta", "ünï\"q", "alpha"]]),
            rules=pick([[], ["r1"], ["r2", "r1"]]), action=pick(["allow", "route", "refuse", Action.ROUTE]),
            config_hash=pick(["cfg", "c\\x"]),
            key_id=pick([None, "key-1", 1, True] if odd_keys else [None, "key-1"]),
            team=pick([None, "ml", "\u2028"]), deployment=pick([None, "d1"]), perimeter=pick([None, "internal"]),
            region=pick([None, "eu"]), sent_to=pick([sent, tuple(sent)])))
    return out


def _row_as_first_written(entry: AuditEntry, seq: int, prev: str, time: str) -> list[Any]:
    """A record's row built field by field with ``json.dumps`` and ``record_hash``, as the log first did."""
    fields: dict[str, Any] = {
        "seq": seq, "time": time, "request_id": entry.request_id, "key_id": entry.key_id, "team": entry.team,
        "data_classes": sorted(entry.data_classes), "rules": list(entry.rules), "action": entry.action,
        "deployment": entry.deployment, "perimeter": entry.perimeter, "region": entry.region,
        "config_hash": entry.config_hash, "sent_to": [r.to_dict() for r in entry.sent_to],
    }
    row = {**fields, "prev_hash": prev, "hash": record_hash(prev, fields)}
    for name in ("data_classes", "rules", "sent_to"):
        row[name] = json.dumps(fields[name])
    return [row[k] for k in ROW_COLUMNS]


def test_chained_rows_are_those_of_record_hash_byte_for_byte() -> None:
    entries = _entries(400)
    clock = Clock()
    rows = chain_rows([entry_wire(e) for e in entries], 41, GENESIS, clock)
    times = [row[1] for row in rows]
    prev, expected = GENESIS, []
    for seq, (entry, time) in enumerate(zip(entries, times, strict=True), start=42):
        expected.append(_row_as_first_written(entry, seq, prev, time))
        prev = expected[-1][-1]
    assert rows == expected


def test_entries_equal_but_for_types_do_not_share_their_json() -> None:
    one, true = (AuditEntry("r", [], [], "allow", "cfg", key_id=k) for k in (1, True))  # 1 == True, JSON 1 vs true
    rows = chain_rows([entry_wire(one), entry_wire(true), entry_wire(one)], 0, GENESIS, Clock())
    prev, expected = GENESIS, []
    for seq, (entry, row) in enumerate(zip((one, true, one), rows, strict=True), start=1):
        expected.append(_row_as_first_written(entry, seq, prev, row[1]))
        prev = expected[-1][-1]
    assert rows == expected


def test_an_unhashable_value_is_chained_like_any_other() -> None:
    entry = AuditEntry("r", [["nested"], ["list"]], [], "allow", "cfg", sent_to=[Recipient("d", "allow")])
    (row,) = chain_rows([entry_wire(entry)], 0, GENESIS, Clock())
    assert row == _row_as_first_written(entry, 1, GENESIS, row[1])


@pytest.mark.parametrize("moment", [
    datetime(2025, 3, 1, 9, 0, 0, 123_456, tzinfo=UTC),
    datetime(2025, 3, 1, 9, 0, 0, tzinfo=UTC),  # isoformat would drop the fraction without timespec
    datetime(2025, 3, 1, 9, 0, 0, 5, tzinfo=timezone(timedelta(hours=2))),
    datetime(2025, 3, 1, 9, 0, 0, 5),
    datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    date(2025, 3, 1),
])
def test_timestamps_read_as_the_strftime_form(moment: datetime | date) -> None:
    if not isinstance(moment, datetime):
        expected = datetime(moment.year, moment.month, moment.day, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    else:
        aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        expected = aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert _timestamp(moment) == expected


def _stored(log: AuditStore) -> list[dict[str, Any]]:
    return [r.to_dict() for r in log.records()]


def test_appending_wire_entries_stores_what_append_many_stores(tmp_path: Path) -> None:
    entries = _entries(120, seed=9, odd_keys=False)
    direct, wired = AuditLog(tmp_path / "a.sqlite", clock=Clock()), AuditLog(tmp_path / "b.sqlite", clock=Clock())
    returned = [r for i in range(0, 120, 50) for r in direct.append_many(entries[i:i + 50])]
    for i in range(0, 120, 50):
        wired.append_wire([entry_wire(e) for e in entries[i:i + 50]])
    assert _stored(wired) == _stored(direct) == [r.to_dict() for r in returned]
    assert wired.head() == direct.head() and wired.verify().ok
    direct.close()
    wired.close()


def test_postgres_appends_wire_entries_as_sqlite_does(tmp_path: Path, pg_audit_url: str) -> None:
    entries = _entries(90, seed=11, odd_keys=False)
    clocks = Clock(), Clock()
    local, shared = AuditLog(tmp_path / "a.sqlite", clock=clocks[0]), PostgresAuditLog(pg_audit_url, clock=clocks[1])
    clocks[1].now = clocks[0].now = Clock().now  # the migrations read them a different number of times
    try:
        local.append_many(entries[:40])
        shared.append_many(entries[:40])
        local.append_wire([entry_wire(e) for e in entries[40:]])
        shared.append_wire([entry_wire(e) for e in entries[40:]])
        assert shared.append_wire([]) == [] and local.append_wire([]) == []
        assert _stored(shared) == _stored(local)
        assert shared.head() == local.head()
        assert shared.verify().ok and local.verify().ok
    finally:
        shared.drop_tables()
        shared.close()
        local.close()
