"""The audit log on a real SQLite file: appends chain, tampering is found and located, export filters."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from interlock.compliance import AuditEntry, AuditLog
from interlock.compliance.audit import _MIGRATIONS, AuditLogDamaged, Recipient, record_hash


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


def _entry(i: int) -> AuditEntry:
    return AuditEntry(
        request_id=f"req-{i}",
        data_classes=["personal", "health"] if i % 2 else [],
        rules=["phi-stays-in"] if i % 2 else [],
        action="route" if i % 2 else "allow",
        config_hash="c0ffee",
        key_id="key-ops",
        team="ops",
        deployment="local-llama",
        perimeter="internal",
        region="eu",
    )


@pytest.fixture
def log_path(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "audit.sqlite"
    log = AuditLog(path, clock=Clock())
    for i in range(1, 6):
        log.append(_entry(i))
    log.close()
    yield path


def _tamper(path: Path, *statements: str | tuple[str, tuple]) -> None:
    """What someone with the file would do: drop the append-only triggers, then edit."""
    db = sqlite3.connect(path)
    db.execute("DROP TRIGGER audit_records_no_update")
    db.execute("DROP TRIGGER audit_records_no_delete")
    for statement in statements:
        sql, params = statement if isinstance(statement, tuple) else (statement, ())
        db.execute(sql, params)
    db.commit()
    db.close()


def test_appends_chain_and_verify(log_path: Path) -> None:
    log = AuditLog(log_path)
    records = list(log.records())
    assert [r.seq for r in records] == [1, 2, 3, 4, 5]
    assert records[0].prev_hash == "0" * 64 and records[1].prev_hash == records[0].hash
    assert records[0].data_classes == ["health", "personal"]  # stored sorted
    result = log.verify()
    assert result.ok and result.records_checked == 5 and bool(result)
    assert log.head() == (5, records[-1].hash)


def test_update_and_delete_are_refused(log_path: Path) -> None:
    db = sqlite3.connect(log_path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE audit_records SET deployment = 'gpt-us' WHERE seq = 2")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM audit_records WHERE seq = 2")


def test_verify_catches_an_edited_record(log_path: Path) -> None:
    _tamper(log_path, "UPDATE audit_records SET deployment = 'gpt-us', perimeter = 'external' WHERE seq = 3")
    result = AuditLog(log_path).verify()
    assert not result.ok and result.first_bad_seq == 3 and result.first_bad_request_id == "req-3"
    assert "edited" in (result.problem or "")


def test_verify_catches_a_deleted_record(log_path: Path) -> None:
    _tamper(log_path, "DELETE FROM audit_records WHERE seq = 2")
    result = AuditLog(log_path).verify()
    assert not result.ok and result.first_bad_seq == 3
    assert "removed" in (result.problem or "")


def test_verify_catches_two_swapped_records(log_path: Path) -> None:
    columns = (
        "time",
        "request_id",
        "key_id",
        "team",
        "data_classes",
        "rules",
        "action",
        "deployment",
        "perimeter",
        "region",
        "config_hash",
        "prev_hash",
        "hash",
    )
    db = sqlite3.connect(log_path)
    rows = {
        seq: rest
        for seq, *rest in db.execute(
            f"SELECT seq, {', '.join(columns)} FROM audit_records WHERE seq IN (2, 4)"
        )
    }
    db.close()
    assign = ", ".join(f"{c} = ?" for c in columns)
    _tamper(
        log_path,
        (f"UPDATE audit_records SET {assign} WHERE seq = 2", tuple(rows[4])),
        (f"UPDATE audit_records SET {assign} WHERE seq = 4", tuple(rows[2])),
    )
    result = AuditLog(log_path).verify()
    assert not result.ok and result.first_bad_seq == 2 and result.first_bad_request_id == "req-4"


def test_verify_catches_removal_of_the_newest_records(log_path: Path) -> None:
    _tamper(log_path, "DELETE FROM audit_records WHERE seq >= 4")
    result = AuditLog(log_path).verify()
    assert not result.ok and result.records_checked == 3 and "removed" in (result.problem or "")


def test_an_external_anchor_catches_a_rewritten_chain(log_path: Path) -> None:
    log = AuditLog(log_path)
    anchor = log.head()
    log.close()
    # Rewrite everything consistently from scratch: only the anchor kept elsewhere can tell.
    log_path.unlink()
    forged = AuditLog(log_path, clock=Clock())
    for i in range(1, 6):
        forged.append(_entry(i + 100))
    assert forged.verify().ok
    assert not forged.verify(anchor=anchor).ok


def test_export_since_gives_json_ready_dicts_without_values(log_path: Path) -> None:
    log = AuditLog(log_path)
    third = datetime.fromisoformat(list(log.records())[2].time)
    rows = list(log.export(since=third))
    assert [r["request_id"] for r in rows] == ["req-3", "req-4", "req-5"]
    assert set(rows[0]) == {
        "seq",
        "time",
        "request_id",
        "key_id",
        "team",
        "data_classes",
        "rules",
        "action",
        "deployment",
        "perimeter",
        "region",
        "config_hash",
        "prev_hash",
        "hash",
        "sent_to",
    }
    json.dumps(rows)
    assert len(list(log.export(since=date(2025, 3, 2)))) == 0
    assert len(list(log.export())) == 5


def test_reopening_keeps_appending_to_the_same_chain(log_path: Path) -> None:
    log = AuditLog(log_path, clock=Clock())
    record = log.append(_entry(6))
    assert record.seq == 6 and log.verify().ok
    assert sqlite3.connect(log_path).execute("SELECT max(version) FROM schema_migrations").fetchone() == (2,)


def test_a_record_names_every_deployment_the_body_was_sent_to(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.sqlite", clock=Clock())
    sent = (
        Recipient("inside-a", "route", "internal", "eu"),
        Recipient("outside-b", "redact", "external", "us"),
    )
    entry = AuditEntry("req-1", ["personal"], ["personal-redacted"], "redact", "c0ffee",
                       deployment="outside-b", perimeter="external", region="us", sent_to=sent)
    log.append(entry)
    record = next(log.records())
    assert record.sent_to == [r.to_dict() for r in sent]
    assert log.verify().ok
    log.close()
    # the list is covered by the hash: dropping the first recipient is tampering
    _tamper(tmp_path / "audit.sqlite", ("UPDATE audit_records SET sent_to = ? WHERE seq = 1",
                                        (json.dumps([sent[1].to_dict()]),)))
    result = AuditLog(tmp_path / "audit.sqlite").verify()
    assert not result.ok and result.first_bad_seq == 1 and "edited" in (result.problem or "")


def test_records_written_before_recipients_were_recorded_still_verify(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path, isolation_level=None)  # a log as the first schema wrote it
    db.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)")
    db.executescript(_MIGRATIONS[0])
    db.execute("INSERT INTO schema_migrations VALUES (1, '2025-01-01T00:00:00.000000Z')")
    prev = "0" * 64
    for seq in (1, 2):
        fields = {"seq": seq, "time": f"2025-01-01T00:00:0{seq}.000000Z", "request_id": f"old-{seq}",
                  "key_id": None, "team": None, "data_classes": [], "rules": [], "action": "allow",
                  "deployment": "d", "perimeter": "internal", "region": "eu", "config_hash": "h"}
        digest = record_hash(prev, fields)
        db.execute("INSERT INTO audit_records (seq, time, request_id, key_id, team, data_classes, rules, "
                   "action, deployment, perimeter, region, config_hash, prev_hash, hash) "
                   "VALUES (?, ?, ?, NULL, NULL, '[]', '[]', 'allow', 'd', 'internal', 'eu', 'h', ?, ?)",
                   (seq, fields["time"], fields["request_id"], prev, digest))
        prev = digest
    db.execute("UPDATE audit_head SET seq = 2, hash = ?", (prev,))
    db.close()
    log = AuditLog(path, clock=Clock())
    log.append(_entry(3))
    assert log.verify().ok
    assert [r.sent_to for r in log.records()] == [None, None, []]


def test_a_missing_head_row_is_reported_not_a_crash(log_path: Path) -> None:
    db = sqlite3.connect(log_path)
    db.execute("DELETE FROM audit_head")
    db.commit()
    db.close()
    log = AuditLog(log_path)
    result = log.verify()
    assert not result.ok and "head row is missing" in (result.problem or "")
    with pytest.raises(AuditLogDamaged, match="head row is missing"):
        log.append(_entry(6))
    with pytest.raises(AuditLogDamaged):
        log.head()
