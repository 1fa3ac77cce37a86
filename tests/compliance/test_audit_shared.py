"""One audit chain with many writers: worker processes on one SQLite file, replicas on one PostgreSQL
database (the real server, a schema of the test's own); and which backend a config's log lands in."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import psycopg
import pytest
from services import pg_audit_url, pg_schema, postgres_url  # noqa: F401  (fixtures)
from typer.testing import CliRunner

from interlock.cli.main import app
from interlock.compliance.audit import (
    AuditEntry,
    AuditLog,
    Recipient,
    audit_location,
    describe_location,
    open_audit_log,
)
from interlock.compliance.audit_postgres import PostgresAuditLog
from interlock.config.defaults import default_config

WRITERS = 4
BATCHES = 10
BATCH = 5


def _entry(writer: int, i: int) -> AuditEntry:
    return AuditEntry(f"req-{writer}-{i}", ["personal"] if i % 2 else [], [], "allow", "c0ffee", key_id=f"key-{writer}",
                      deployment="open", sent_to=[Recipient("open", "allow", "internal", "eu")])


def _append_batches(location: str, writer: int) -> None:
    log = open_audit_log(location if location.startswith("postgresql") else Path(location))
    try:
        for b in range(BATCHES):
            log.append_many([_entry(writer, b * BATCH + i) for i in range(BATCH)])
    finally:
        log.close()


# A worker process: the same appends as _append_batches, importing only the audit module (fast to start).
_WORKER = f"""
import sys
from pathlib import Path
from interlock.compliance.audit import AuditEntry, AuditLog, Recipient
writer = int(sys.argv[2])
log = AuditLog(Path(sys.argv[1]))
for b in range({BATCHES}):
    log.append_many([AuditEntry(f"req-{{writer}}-{{b * {BATCH} + i}}", [], [], "allow", "c0ffee", key_id=f"key-{{writer}}",
                                deployment="open", sent_to=[Recipient("open", "allow", "internal", "eu")])
                     for i in range({BATCH})])
log.close()
"""


def test_worker_processes_on_one_sqlite_file_keep_one_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    AuditLog(path).close()
    workers = [subprocess.Popen([sys.executable, "-c", _WORKER, str(path), str(w)]) for w in range(WRITERS)]
    assert [w.wait(timeout=60) for w in workers] == [0] * WRITERS
    log = AuditLog(path)
    result = log.verify()
    records = list(log.records())
    log.close()
    assert result.ok, result.problem
    assert result.records_checked == WRITERS * BATCHES * BATCH
    assert [r.seq for r in records] == list(range(1, len(records) + 1))
    # each writer's batches stay in its own order within the shared chain
    mine = [r.request_id for r in records if r.key_id == "key-2"]
    assert mine == [f"req-2-{i}" for i in range(BATCHES * BATCH)]


def test_replicas_on_postgres_keep_one_chain(pg_audit_url: str) -> None:
    PostgresAuditLog(pg_audit_url).close()  # migrated once; the writers find the tables
    threads = [threading.Thread(target=_append_batches, args=(pg_audit_url, w)) for w in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    log = PostgresAuditLog(pg_audit_url)
    try:
        result = log.verify()
        records = list(log.records())
        head = log.head()
    finally:
        log.close()
    assert result.ok, result.problem
    assert result.records_checked == WRITERS * BATCHES * BATCH == len(records)
    assert head == (records[-1].seq, records[-1].hash)
    assert records[0].sent_to == [{"deployment": "open", "action": "allow", "perimeter": "internal", "region": "eu"}]


def test_postgres_log_refuses_edits_and_verify_names_a_forged_record(pg_audit_url: str) -> None:
    log = PostgresAuditLog(pg_audit_url)
    for i in range(5):
        log.append(_entry(0, i))
    with psycopg.connect(pg_audit_url, autocommit=True) as conn:
        for statement in ("UPDATE audit_records SET deployment = 'gpt-us' WHERE seq = 2",
                          "DELETE FROM audit_records WHERE seq = 2", "TRUNCATE audit_records"):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute(statement)
        # someone with the database: drop the guard, then edit
        conn.execute("DROP TRIGGER audit_records_no_change ON audit_records")
        conn.execute("UPDATE audit_records SET deployment = 'gpt-us' WHERE seq = 3")
    result = log.verify()
    log.close()
    assert not result.ok and result.first_bad_seq == 3 and "edited" in (result.problem or "")


def test_cli_verifies_the_postgres_chain_without_printing_a_password(pg_audit_url: str) -> None:
    log = PostgresAuditLog(pg_audit_url)
    log.append(_entry(0, 1))
    seq, digest = log.head()
    log.close()
    runner = CliRunner()
    done = runner.invoke(app, ["audit", "verify", "--path", pg_audit_url, "--anchor", f"{seq}:{digest}"])
    assert done.exit_code == 0, done.output
    assert "1 records, chain intact" in " ".join(done.output.split())
    assert describe_location("postgresql://u:s3cret@db:5432/x") == "postgresql://u:***@db:5432/x"
    assert "s3cret" not in describe_location("postgres://:s3cret@db/x")


def test_cli_says_clearly_when_the_database_cannot_be_reached() -> None:
    done = CliRunner().invoke(app, ["audit", "verify", "--path", "postgresql://nobody:pw@127.0.0.1:1/none"])
    assert done.exit_code == 2
    assert "is not a readable audit log" in done.output and "pw@" not in done.output


def test_the_audit_log_follows_the_database_to_postgres(tmp_path: Path) -> None:
    base = default_config().config
    pg = "postgresql://gw@db.internal:5432/interlock"
    on_pg = base.model_copy(update={"accounting": base.accounting.model_copy(update={"database_url": pg})})
    assert audit_location(on_pg, {}) == pg
    assert audit_location(base, {"INTERLOCK_DB_URL": pg}) == pg
    file = tmp_path / "deep" / "audit.db"
    explicit = on_pg.model_copy(update={"audit_log": str(file)})
    assert audit_location(explicit, {}) == file and file.parent.is_dir()
    other = "postgresql://gw@audit.internal/audit"
    assert audit_location(base.model_copy(update={"audit_log": other}), {}) == other
    assert isinstance(audit_location(base, {"XDG_DATA_HOME": str(tmp_path)}), Path)
