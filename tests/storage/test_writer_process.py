"""The writer process: ledger and audit batches committed by a child, restarted if it dies, failures reported."""

from __future__ import annotations

import os
import signal
from decimal import Decimal
from functools import partial
from pathlib import Path

import pytest

from interlock.accounting.ledger import SqlLedgerStore
from interlock.accounting.records import UsageRecord
from interlock.compliance.audit import AuditEntry, AuditLog, open_audit_log
from interlock.storage.database import open_database
from interlock.storage.writer_process import WriteFailed, WriterProcess, open_ledger


def _usage(n: int) -> list[UsageRecord]:
    return [UsageRecord(model="m", deployment="d", prompt_tokens=3, completion_tokens=5,
                        cost_usd=Decimal("0.001"), baseline_cost_usd=Decimal("0.01")) for _ in range(n)]


def _entries(n: int) -> list[AuditEntry]:
    return [AuditEntry(f"req-{i}", [], [], "allow", "cfg", deployment="d") for i in range(n)]


def test_batches_are_committed_by_the_child_and_survive_its_restart(tmp_path: Path) -> None:
    db_path, audit_path = str(tmp_path / "ledger.db"), tmp_path / "audit.db"
    writer = WriterProcess(partial(open_ledger, db_path), partial(open_audit_log, audit_path))
    try:
        writer.ledger.append(_usage(3))
        writer.audit.append_many(_entries(2))
        first = writer.pid
        assert first is not None and first != os.getpid()
        os.kill(first, signal.SIGKILL)  # the child dies between two batches
        writer._process.join(10)
        writer.ledger.append(_usage(2))
        writer.audit.append_many(_entries(1))
        assert writer.restarts == 1 and writer.pid != first
    finally:
        writer.close()
    assert SqlLedgerStore(open_database(db_path)).count() == 5
    audit = AuditLog(audit_path)
    result = audit.verify()
    assert result.ok and result.records_checked == 3
    audit.close()


def test_a_write_the_child_cannot_do_comes_back_as_an_error(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the audit log's directory should be")
    writer = WriterProcess(None, partial(open_audit_log, blocked / "audit.db"))
    try:
        with pytest.raises(WriteFailed):
            writer.audit.append_many(_entries(1))
        with pytest.raises(WriteFailed, match="no ledger"):
            writer.ledger.append(_usage(1))
    finally:
        writer.close()
    with pytest.raises(WriteFailed, match="closed"):
        writer.write("ledger", _usage(1))
