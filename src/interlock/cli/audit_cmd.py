"""``interlock audit``: verify the hash-chained audit log (against an anchor kept elsewhere), print its
head for anchoring, export it for the compliance team."""

from __future__ import annotations

import json
import re
import sqlite3
import sys
from datetime import date
from pathlib import Path

import typer
from rich.console import Console

from interlock.cli.loading import load_or_exit
from interlock.compliance import AuditLog
from interlock.compliance.audit import AuditLogDamaged
from interlock.storage.database import default_sqlite_path

audit_app = typer.Typer(help="Verify and export the compliance audit log.", no_args_is_help=True)
console = Console(stderr=True)

PathOption = typer.Option(None, "--path", help="audit log file (default: from --config, else the user data dir)")
ConfigOption = typer.Option(None, "--config", "-c", help="gateway config whose `audit_log` to use")


def _audit_path(path: Path | None, config: Path | None) -> Path:
    if path is not None:
        return path
    if config is not None:
        configured = load_or_exit(config).config.audit_log
        if configured:
            return Path(configured)
    return default_sqlite_path().with_name("audit.db")


def _open(path: Path) -> AuditLog:
    if not path.is_file():
        console.print(f"[bold red]no audit log at {path}[/]")
        raise typer.Exit(code=2)
    try:
        return AuditLog(path)
    except sqlite3.DatabaseError as exc:
        console.print(f"[bold red]{path} is not a readable audit log[/]: {exc}")
        raise typer.Exit(code=2) from None


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
    path: Path | None = PathOption, config: Path | None = ConfigOption, anchor: str | None = AnchorOption
) -> None:
    """Walk the hash chain; name the first edited, removed or reordered record and exit 1 if there is one."""
    pinned = _parse_anchor(anchor)
    where = _audit_path(path, config)
    try:
        result = _open(where).verify(anchor=pinned)
    except sqlite3.DatabaseError as exc:  # tables dropped or the file damaged
        console.print(f"[bold red]TAMPERED[/] {where}: the log cannot be read ({exc})")
        raise typer.Exit(code=1) from None
    if result.ok:
        against = f", matches the anchor at record {pinned[0]}" if pinned else ""
        console.print(f"[green]ok[/] {where}: {result.records_checked} records, chain intact{against}")
        return
    console.print(f"[bold red]TAMPERED[/] {where}: first bad record seq={result.first_bad_seq} "
                  f"request_id={result.first_bad_request_id}: {result.problem}")
    raise typer.Exit(code=1)


@audit_app.command("head")
def head(path: Path | None = PathOption, config: Path | None = ConfigOption) -> None:
    """Print SEQ:HASH of the newest record; keep it elsewhere and pass it to `verify --anchor` later."""
    where = _audit_path(path, config)
    try:
        seq, digest = _open(where).head()
    except (AuditLogDamaged, sqlite3.DatabaseError) as exc:
        console.print(f"[bold red]TAMPERED[/] {where}: {exc}")
        raise typer.Exit(code=1) from None
    print(f"{seq}:{digest}")


@audit_app.command("export")
def export(
    since: str | None = typer.Option(None, help="YYYY-MM-DD: records from this day on"),
    out: Path | None = typer.Option(None, help="JSONL file to write (default: stdout)"),
    path: Path | None = PathOption,
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
