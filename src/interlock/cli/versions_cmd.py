"""``interlock config history|rollback`` and ``interlock versions compare``.

The database is ``--db`` or ``$INTERLOCK_DB_URL``, as for ``interlock keys``. Rollback writes
the stored config back to the config file; a running gateway applies it from there (file
watcher, SIGHUP or the admin reload endpoint) and records it in history when it does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from interlock.cli.keys import DbOption
from interlock.config.load import ConfigError, parse_config
from interlock.storage.database import Database
from interlock.versions.compare import ShadowSummary, registry_scorer, summarise
from interlock.config.history import ConfigHistory, HistoryEntry, HistoryLookupError
from interlock.versions.migrations import open_versions_database
from interlock.config.reload import write_config_file
from interlock.versions.store import SqlShadowStore

versions_app = typer.Typer(help="Compare model versions (shadow traffic results).", no_args_is_help=True)
out = Console()
err = Console(stderr=True)


def add_config_commands(config_app: typer.Typer) -> None:
    """Mount ``history`` and ``rollback`` on the ``interlock config`` group."""
    config_app.command("history")(history)
    config_app.command("rollback")(rollback)


@contextmanager
def _database(db_url: str | None) -> Iterator[Database]:
    db = open_versions_database(db_url)
    try:
        yield db
    finally:
        db.close()


def _fail(message: str) -> typer.Exit:
    err.print(message, markup=False, highlight=False)
    return typer.Exit(code=1)


def _history_table(entries: list[HistoryEntry]) -> Table:
    table = Table(title="Applied configs (newest first)")
    table.add_column("hash", no_wrap=True, min_width=16)  # copied into `config rollback`
    table.add_column("applied (UTC)", no_wrap=True)
    for column in ("reason", "source", "change"):
        table.add_column(column, overflow="fold")
    for e in entries:
        added, removed = e.diff_stat
        table.add_row(
            e.hash, e.applied_at.strftime("%Y-%m-%d %H:%M:%S"), e.reason, e.source, f"+{added} -{removed}"
        )
    return table


def _history_dict(entry: HistoryEntry) -> dict[str, object]:
    added, removed = entry.diff_stat
    return {"hash": entry.hash, "previous_hash": entry.previous_hash, "applied_at": entry.applied_at.isoformat(),
            "reason": entry.reason, "source": entry.source, "lines_added": added, "lines_removed": removed}


def history(
    show: Annotated[
        str | None, typer.Option("--show", help="Print the diff of the config with this hash (prefix).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many entries to list.")] = 20,
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON instead of a table.")] = False,
) -> None:
    """List applied configs with their hash, time and size of change."""
    with _database(db) as database:
        store = ConfigHistory(database)
        if show is not None:
            try:
                entry = store.get(show)
            except HistoryLookupError as exc:
                raise _fail(str(exc)) from None
            out.print(
                f"config {entry.hash} applied {entry.applied_at:%Y-%m-%d %H:%M:%S} UTC ({entry.reason})"
            )
            print(entry.diff or "(no textual change)")
            return
        entries = store.list(limit=limit)
    if as_json:
        print(json.dumps({"configs": [_history_dict(e) for e in entries]}, indent=2))
        return
    if not entries:
        out.print("No configs recorded yet; a gateway records each config it applies.")
        return
    out.print(_history_table(entries))


def rollback(
    config_hash: Annotated[
        str, typer.Argument(metavar="HASH", help="Hash (or unique prefix) from 'config history'.")
    ],
    config_file: Annotated[
        Path | None,
        typer.Option("--config-file", help="File to write (default: where that config was loaded from)."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Write a stored config back to the config file, validated first, for the gateway to apply."""
    with _database(db) as database:
        try:
            entry = ConfigHistory(database).get(config_hash)
        except HistoryLookupError as exc:
            raise _fail(str(exc)) from None
    target = config_file or Path(entry.source)
    if not target.parent.is_dir():
        raise _fail(f"cannot write {target}: no such directory; pass --config-file")
    try:
        loaded = parse_config(entry.text, source=f"stored config {entry.hash}")
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    if target.exists() and target.read_text(encoding="utf-8") == entry.text:
        out.print(f"{target} already holds config {entry.hash}.")
        return
    write_config_file(target, entry.text)
    out.print(
        f"[green]wrote[/] config {entry.hash} to {target} (validates; canonical hash now {loaded.hash})."
    )
    out.print(
        "A gateway serving this file applies it at its next file check. To apply it now, send "
        "SIGHUP (kill -HUP <gateway pid>) or POST the admin reload endpoint. "
        "It appears in 'config history' once applied."
    )


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _summary_table(s: ShadowSummary) -> Table:
    table = Table(title=f"Shadow results for {s.alias}: {s.count} requests, {s.compared} with both answers")
    table.add_column("")
    table.add_column("primary", overflow="fold")
    table.add_column("shadow", overflow="fold")
    p, c = s.primary, s.shadow
    rows = [
        ("models", ", ".join(p.models), ", ".join(c.models)),
        ("answered / errors", f"{p.answered} / {p.errors}", f"{c.answered} / {c.errors}"),
        ("latency p50", _ms(p.latency_p50_ms), _ms(c.latency_p50_ms)),
        ("latency p95", _ms(p.latency_p95_ms), _ms(c.latency_p95_ms)),
        ("total cost", _usd(p.total_cost_usd, p.priced), _usd(c.total_cost_usd, c.priced)),
        ("mean cost", _usd(p.mean_cost_usd, p.priced), _usd(c.mean_cost_usd, c.priced)),
    ]
    for row in rows:
        table.add_row(*row)
    table.add_row("exact agreement", _rate(s.exact_agreement), "")
    if s.scored_agreement is not None:
        table.add_row("scored agreement", _rate(s.scored_agreement), "")
    return table


def _usd(value: object, priced: int) -> str:
    return "unpriced" if value is None else f"${value:.6f} ({priced} priced)"


@versions_app.command("compare")
def compare(
    alias: Annotated[str, typer.Argument(help="The alias whose shadow traffic to summarise.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    scorer: Annotated[
        str | None, typer.Option("--scorer", help="Also score the shadow against the primary, e.g. rouge_l.")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the newest N results.")] = None,
    db: DbOption = None,
) -> None:
    """Agreement, latency and cost of an alias's primary and shadow answers."""
    try:
        pair_scorer = registry_scorer(scorer) if scorer else None
    except Exception as exc:  # unknown name, or a scorer that needs a judge model or options
        raise _fail(f"cannot use scorer {scorer!r}: {exc.args[0] if exc.args else exc}") from None
    with _database(db) as database:
        store = SqlShadowStore(database)
        results = store.results(alias, limit=limit)
        known = store.aliases()
    if not results:
        others = ", ".join(f"{a} ({n})" for a, n in known.items()) or "none"
        raise _fail(f"No shadow results for alias {alias!r}. Aliases with results: {others}")
    summary = summarise(alias, results, pair_scorer)
    if as_json:
        print(json.dumps(summary.to_dict(), indent=2))
    else:
        out.print(_summary_table(summary))
