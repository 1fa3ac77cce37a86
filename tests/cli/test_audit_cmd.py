"""``interlock audit``: verify with and without an anchor, print the head, fail clearly on a damaged file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import Result

from interlock.compliance import AuditEntry, AuditLog


def said(result: Result) -> str:
    """What the command printed, with the console's line wrapping undone."""
    return " ".join(result.output.split())


@pytest.fixture
def audit_file(tmp_path: Path) -> Path:
    path = tmp_path / "audit.db"
    log = AuditLog(path)
    for i in range(3):
        log.append(AuditEntry(f"req-{i}", [], [], "allow", "c0ffee", deployment="inside"))
    log.close()
    return path


def test_head_prints_an_anchor_that_verify_accepts(interlock, audit_file: Path) -> None:
    head = interlock("audit", "head", "--path", audit_file)
    assert head.exit_code == 0, head.output
    anchor = head.stdout.strip()
    assert anchor.startswith("3:") and len(anchor) == 2 + 64
    ok = interlock("audit", "verify", "--path", audit_file, "--anchor", anchor)
    assert ok.exit_code == 0 and "matches the anchor at record 3" in said(ok)


def test_verify_with_the_anchor_of_another_chain_fails(interlock, audit_file: Path, tmp_path: Path) -> None:
    anchor = interlock("audit", "head", "--path", audit_file).stdout.strip()
    audit_file.unlink()  # rewritten from scratch: consistent in itself, but not the chain anchored
    forged = AuditLog(audit_file)
    for i in range(3):
        forged.append(AuditEntry(f"forged-{i}", [], [], "allow", "c0ffee", deployment="elsewhere"))
    forged.close()
    assert interlock("audit", "verify", "--path", audit_file).exit_code == 0
    result = interlock("audit", "verify", "--path", audit_file, "--anchor", anchor)
    assert result.exit_code == 1 and "chain rewritten" in said(result)


def test_a_malformed_anchor_is_a_usage_error(interlock, audit_file: Path) -> None:
    result = interlock("audit", "verify", "--path", audit_file, "--anchor", "3:not-a-hash")
    assert result.exit_code == 2 and "SEQ:HASH" in said(result)


def test_a_missing_head_row_is_a_clear_failure(interlock, audit_file: Path) -> None:
    with sqlite3.connect(audit_file) as db:
        db.execute("DELETE FROM audit_head")
    result = interlock("audit", "verify", "--path", audit_file)
    assert result.exit_code == 1 and "head row is missing" in said(result)
    assert "Traceback" not in result.output
    head = interlock("audit", "head", "--path", audit_file)
    assert head.exit_code == 1 and "head row is missing" in said(head)


def test_dropped_tables_and_foreign_files_are_clear_failures(
    interlock, audit_file: Path, tmp_path: Path
) -> None:
    with sqlite3.connect(audit_file) as db:
        db.execute("DROP TABLE audit_records")
    dropped = interlock("audit", "verify", "--path", audit_file)
    assert dropped.exit_code == 1 and "cannot be read" in said(dropped)
    foreign = tmp_path / "notes.txt"
    foreign.write_text("not a database at all, just some words in a file " * 20)
    result = interlock("audit", "verify", "--path", foreign)
    assert result.exit_code == 2 and "not a readable audit log" in said(result)
