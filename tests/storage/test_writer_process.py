"""The writer process: ledger and audit batches committed by a child, restarted if it dies, failures reported."""

from __future__ import annotations

import io
import json
import os
import signal
import sys
import threading
import time
from decimal import Decimal
from functools import partial
from pathlib import Path

import pytest

from interlock.accounting.ledger import SqlLedgerStore
from interlock.accounting.records import UsageRecord
from interlock.compliance.audit import AuditEntry, AuditLog, Recipient, open_audit_log
from interlock.observability.logging import JsonFormatter
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


def test_the_child_stores_what_the_stores_store_themselves(tmp_path: Path) -> None:
    records = [UsageRecord(model="m", request_id=f"r{i}", team=("a" if i % 2 else None), prompt_tokens=i,
                           cost_usd=Decimal(1) / Decimal(3 + i), baseline_cost_usd=Decimal("0.01")) for i in range(30)]
    entries = [AuditEntry(f"req-{i}", ["secret", "personal"] if i % 2 else [], ["r1"], "route", "cfg", key_id="k",
                          deployment="d", sent_to=[Recipient("d", "route", "internal", "eu")]) for i in range(30)]
    writer = WriterProcess(partial(open_ledger, str(tmp_path / "child.db")), partial(open_audit_log, tmp_path / "child.sqlite"))
    try:
        writer.ledger.append(records)
        assert writer.audit.append_many(entries) == []
    finally:
        writer.close()
    direct = SqlLedgerStore(open_database(str(tmp_path / "direct.db")))
    direct.append(records)
    child = SqlLedgerStore(open_database(str(tmp_path / "child.db")))
    for table in ("usage_records", "usage_hourly"):
        query = f"SELECT * FROM {table} ORDER BY 1, 2, 3"
        assert child.db.fetchall(query) == direct.db.fetchall(query)
    audit = AuditLog(tmp_path / "child.sqlite")
    stored = list(audit.records())
    assert audit.verify().ok and [r.request_id for r in stored] == [e.request_id for e in entries]
    assert stored[1].data_classes == ["personal", "secret"] and stored[1].sent_to == [Recipient("d", "route", "internal", "eu").to_dict()]
    audit.close()


def test_a_batch_that_cannot_be_sent_fails_as_a_write_and_the_next_one_goes_through(tmp_path: Path) -> None:
    writer = WriterProcess(partial(open_ledger, str(tmp_path / "ledger.db")), partial(open_audit_log, tmp_path / "audit.db"))
    try:
        with pytest.raises(WriteFailed, match="AttributeError"):
            writer.ledger.append([UsageRecord(model="m", ts=None)])  # type: ignore[arg-type]
        with pytest.raises(WriteFailed, match="TypeError"):
            writer.audit.append_many([AuditEntry("r", None, [], "allow", "cfg")])  # type: ignore[arg-type]
        writer.ledger.append(_usage(2))
        writer.audit.append_many(_entries(1))
        assert writer.restarts == 0
    finally:
        writer.close()
    assert SqlLedgerStore(open_database(str(tmp_path / "ledger.db"))).count() == 2


def _line_fields(i: int) -> dict[str, object]:
    return {"request_id": f"r{i}", "endpoint": "chat", "status": 200, "latency_ms": 1.25, "ttft_ms": None,
            "data_classes": ["personal"]}


def test_request_lines_are_written_by_the_child_to_the_stderr_it_shares(
        capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    here = io.StringIO()
    monkeypatch.setattr(sys, "stderr", here)  # what this process writes itself lands here, not on fd 2
    writes = WriterProcess(None, None)
    created = time.time()
    try:
        for i in range(3):
            writes.lines.add(created, _line_fields(i))
    finally:
        writes.close()
    assert here.getvalue() == ""
    written = capfd.readouterr().err.splitlines()
    formatter = JsonFormatter()
    assert written == [formatter.request_line(created, _line_fields(i)) for i in range(3)]
    first = json.loads(written[0])
    assert list(first)[:4] == ["ts", "level", "logger", "msg"] and first["logger"] == "interlock.request"
    assert first["data_classes"] == ["personal"] and first["ttft_ms"] is None


def test_request_lines_reach_stderr_from_here_when_the_child_cannot_take_them(
        monkeypatch: pytest.MonkeyPatch) -> None:
    here = io.StringIO()
    monkeypatch.setattr(sys, "stderr", here)
    writes = WriterProcess(None, None)
    writes.close()
    writes.lines.add(time.time(), _line_fields(7))  # after close: written at once, by this process
    assert [json.loads(line)["request_id"] for line in here.getvalue().splitlines()] == ["r7"]
