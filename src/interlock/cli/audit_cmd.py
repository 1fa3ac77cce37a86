"""``interlock audit``: verify the hash-chained audit log, export it for the compliance team."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import typer
from rich.console import Console

from interlock.cli.loading import load_or_exit
from interlock.compliance import AuditLog
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
    return AuditLog(path)


@audit_app.command("verify")
def verify(path: Path | None = PathOption, config: Path | None = ConfigOption) -> None:
    """Walk the hash chain; name the first edited, removed or reordered record and exit 1 if there is one."""
    where = _audit_path(path, config)
    result = _open(where).verify()
    if result.ok:
        console.print(f"[green]ok[/] {where}: {result.records_checked} records, chain intact")
        return
    console.print(f"[bold red]TAMPERED[/] {where}: first bad record seq={result.first_bad_seq} "
                  f"request_id={result.first_bad_request_id}: {result.problem}")
    raise typer.Exit(code=1)


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
