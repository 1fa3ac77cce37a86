"""Audit counts for the Compliance page: each read adds only the records appended since the last one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from interlock.compliance.audit import AuditEntry, AuditLog
from interlock.console.audit_counts import AuditCounts
from interlock.accounting.ledger import hour_key


def entry(n: int, classes: list[str], action: str) -> AuditEntry:
    return AuditEntry(request_id=f"r{n}", data_classes=classes, rules=[], action=action, config_hash="h")


def test_counts_grow_with_the_log_and_respect_the_window(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    moment = [now - timedelta(days=3)]
    log = AuditLog(tmp_path / "audit.db", clock=lambda: moment[0])
    log.append_many([entry(1, ["personal"], "route"), entry(2, [], "allow")])  # three days ago
    moment[0] = now
    log.append_many([entry(3, ["personal", "secret"], "refuse"), entry(4, ["health"], "redact")])
    counts = AuditCounts()
    assert counts.refresh(tmp_path / "audit.db") == 4
    actions, per_class = counts.since(hour_key(now - timedelta(hours=23)))
    assert actions == {"refuse": 1, "redact": 1}
    assert per_class == {"personal": {"refuse": 1}, "secret": {"refuse": 1}, "health": {"redact": 1}}
    actions, per_class = counts.since(hour_key(now - timedelta(days=7)))
    assert actions == {"route": 1, "allow": 1, "refuse": 1, "redact": 1}
    assert per_class["personal"] == {"route": 1, "refuse": 1} and per_class["none"] == {"allow": 1}

    log.append(entry(5, ["personal"], "refuse"))
    assert counts.refresh(tmp_path / "audit.db") == 5  # only the new record is read and added
    assert counts.since(hour_key(now))[1]["personal"] == {"refuse": 2}
    assert counts.refresh(tmp_path / "audit.db") == 5
    assert counts.since(hour_key(now))[1]["personal"] == {"refuse": 2}  # nothing counted twice
    log.close()
