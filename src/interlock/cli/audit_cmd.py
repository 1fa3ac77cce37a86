"""``interlock audit``: verify the hash-chained audit log (against an anchor kept elsewhere), print its
head for anchoring, export it for the compliance team."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import sys
from datetime import date
from pathlib import Path

import psycopg
import typer
from rich.console import Console

from interlock.cli.loading import load_or_exit
from interlock.compliance.audit import (
    AuditLogDamaged,
    AuditStore,
    audit_location,
    describe_location,
    open_audit_log,
)
from interlock.storage.database import ENV_DB_URL, default_sqlite_path, is_postgres_url

audit_app = typer.Typer(help="Verify and export the compliance audit log.", no_args_is_help=True)
console = Console(stderr=True)

PathOption = typer.Option(
    None, "--path",
    help="audit log file or postgresql:// URL (default: from --config, else the PostgreSQL database in "
    f"{ENV_DB_URL}, else the user data dir)")
ConfigOption = typer.Option(None, "--config", "-c", help="gateway config whose audit log to use (as the gateway finds it)")
# Errors of either backend that mean the log cannot be read as an audit log.
_UNREADABLE = (sqlite3.DatabaseError, psycopg.Error)


def _audit_path(path: str | None, config: Path | None) -> str | Path:
    """The same place the gateway writes to: ``audit_location`` of the config."""
    if path is not None:
        return path if is_postgres_url(path) else Path(path)
    if config is not None:
        return audit_location(load_or_exit(config).config)
    database = os.environ.get(ENV_DB_URL)
    if database and is_postgres_url(database):
        return database
    return default_sqlite_path().with_name("audit.db")


def _open(where: str | Path) -> AuditStore:
    if isinstance(where, Path) and not where.is_file():
        console.print(f"[bold red]no audit log at {where}[/]")
        raise typer.Exit(code=2)
    try:
        return open_audit_log(where)
    except _UNREADABLE as exc:
        console.print(f"[bold red]{describe_location(where)} is not a readable audit log[/]: {_reason(exc)}")
        raise typer.Exit(code=2) from None


def _reason(exc: Exception) -> str:
    """The error's first line (a server's message can run on with hints and context)."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


_ANCHOR = re.compile(r"(?P<seq>\d+):(?P<hash>[0-9a-f]{64})")


def _parse_anchor(value: str | None) -> tuple[int, str] | None:
    if value is None:
        return None
    match = _ANCHOR.fullmatch(value.strip().lower())
    if match is None:
        raise typer.BadParameter("use SEQ:HASH as printed by `interlock audit head`", param_hint="--anchor")
    return int(match["seq"]), match["hash"]


AnchorOption = typer.Option(
    None,
    "--anchor",
    help="SEQ:HASH printed by `interlock audit head` and kept where the log's writers cannot write; "
    "catches a chain rewritten from scratch",
)


@audit_app.command("verify")
def verify(
    path: str | None = PathOption, config: Path | None = ConfigOption, anchor: str | None = AnchorOption
) -> None:
    """Walk the hash chain; name the first edited, removed or reordered record and exit 1 if there is one."""
    pinned = _parse_anchor(anchor)
    location = _audit_path(path, config)
    where = describe_location(location)
    try:
        result = _open(location).verify(anchor=pinned)
    except _UNREADABLE as exc:  # tables dropped or the file damaged
        console.print(f"[bold red]TAMPERED[/] {where}: the log cannot be read ({_reason(exc)})")
        raise typer.Exit(code=1) from None
    if result.ok:
        against = f", matches the anchor at record {pinned[0]}" if pinned else ""
        console.print(f"[green]ok[/] {where}: {result.records_checked} records, chain intact{against}")
        return
    console.print(f"[bold red]TAMPERED[/] {where}: first bad record seq={result.first_bad_seq} "
                  f"request_id={result.first_bad_request_id}: {result.problem}")
    raise typer.Exit(code=1)


@audit_app.command("head")
def head(path: str | None = PathOption, config: Path | None = ConfigOption) -> None:
    """Print SEQ:HASH of the newest record; keep it elsewhere and pass it to `verify --anchor` later."""
    location = _audit_path(path, config)
    try:
        seq, digest = _open(location).head()
    except (AuditLogDamaged, *_UNREADABLE) as exc:
        console.print(f"[bold red]TAMPERED[/] {describe_location(location)}: {_reason(exc)}")
        raise typer.Exit(code=1) from None
    print(f"{seq}:{digest}")


@audit_app.command("export")
def export(
    since: str | None = typer.Option(None, help="YYYY-MM-DD: records from this day on"),
    out: Path | None = typer.Option(None, help="JSONL file to write (default: stdout)"),
    path: str | None = PathOption,
    config: Path | None = ConfigOption,
) -> None:
    """Write the audit records as JSONL (no sensitive values are ever stored in them)."""
    try:
        day = date.fromisoformat(since) if since else None
    except ValueError:
        raise typer.BadParameter("use YYYY-MM-DD", param_hint="--since") from None
    log = _open(_audit_path(path, config))
    stream = out.open("w", encoding="utf-8") if out else sys.stdout
    count = 0
    try:
        for record in log.export(day):
            stream.write(json.dumps(record, sort_keys=True) + "\n")
            count += 1
    finally:
        if out:
            stream.close()
    console.print(f"exported {count} records" + (f" to {out}" if out else ""))
