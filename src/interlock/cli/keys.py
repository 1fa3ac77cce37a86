"""``interlock keys``: create, list and revoke virtual API keys.

The database is ``--db`` or ``$INTERLOCK_DB_URL`` (a SQLite path or a
``postgresql://`` URL); without either, the default SQLite file in the user data dir.
A new key is printed once and never again; only its hash is stored.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from interlock.storage.database import ENV_DB_URL, open_database
from interlock.accounting.keys import ApiKey, SqlKeyStore

keys_app = typer.Typer(help="Create, list and revoke virtual API keys.", no_args_is_help=True)


class PeriodChoice(StrEnum):
    day = "day"
    month = "month"


DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar=ENV_DB_URL,
        help="SQLite path or postgresql:// URL (default: interlock.db in the user data dir).",
        show_default=False,
    ),
]


@contextmanager
def _key_store(db_url: str | None) -> Iterator[SqlKeyStore]:
    db = open_database(db_url)
    try:
        yield SqlKeyStore(db)
    finally:
        db.close()


def _parse_budget(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise typer.BadParameter(f"not a number: {text!r}", param_hint="--budget-usd") from None
    if not value.is_finite() or value < 0:
        raise typer.BadParameter("must be a non-negative amount", param_hint="--budget-usd")
    return value


def _budget_text(key: ApiKey) -> str:
    if key.budget_usd is None:
        return "-"
    return f"${key.budget_usd:,.2f}/{key.budget_period}"


def _limits_text(key: ApiKey) -> str:
    parts = [f"{key.rpm} rpm" if key.rpm else "", f"{key.tpm} tpm" if key.tpm else ""]
    return ", ".join(p for p in parts if p) or "-"


def _table(keys: list[ApiKey], title: str, *, show_revoked: bool = False) -> Table:
    table = Table(title=title)
    # Ids and hints are copied into other commands: never wrapped or cut short.
    table.add_column("key id", no_wrap=True, min_width=16)
    table.add_column("key", no_wrap=True, min_width=10)
    for column in ("team", "budget", "limits", "models", "created"):
        table.add_column(column, overflow="fold")
    if show_revoked:
        table.add_column("revoked", overflow="fold")
    for key in keys:
        row = [
            key.key_id,
            key.key_hint,
            key.team,
            _budget_text(key),
            _limits_text(key),
            ", ".join(key.models) or "all",
            key.created_at.strftime("%Y-%m-%d"),
        ]
        if show_revoked:
            row.append(key.revoked_at.strftime("%Y-%m-%d %H:%M") if key.revoked_at else "")
        table.add_row(*row)
    return table


@keys_app.command("create")
def create(
    team: Annotated[str, typer.Option("--team", help="Team the key's spend is charged to.")],
    budget_usd: Annotated[
        str | None, typer.Option("--budget-usd", help="Spend limit in USD per period.", show_default=False)
    ] = None,
    period: Annotated[PeriodChoice, typer.Option("--period", help="Budget period.")] = PeriodChoice.month,
    rpm: Annotated[int | None, typer.Option("--rpm", min=1, help="Requests per minute.")] = None,
    tpm: Annotated[int | None, typer.Option("--tpm", min=1, help="Tokens per minute.")] = None,
    models: Annotated[
        str | None, typer.Option("--models", help="Comma-separated models the key may use (default: all).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Create a key and print it once."""
    allowed = [m.strip() for m in (models or "").split(",") if m.strip()]
    with _key_store(db) as store:
        created = store.create(
            team, budget_usd=_parse_budget(budget_usd), period=period.value, rpm=rpm, tpm=tpm, models=allowed
        )
    console = Console()
    console.print(_table([created.key], "New API key"))
    console.print("Key (shown only now; store it safely):", style="bold")
    # Plain print, no markup or wrapping, so the key can be copied whole.
    print(created.secret)


def key_dict(key: ApiKey) -> dict[str, Any]:
    return {
        "key_id": key.key_id,
        "key_hint": key.key_hint,
        "team": key.team,
        "budget_usd": None if key.budget_usd is None else f"{key.budget_usd.normalize():f}",
        "budget_period": key.budget_period,
        "rpm": key.rpm,
        "tpm": key.tpm,
        "models": list(key.models),
        "created_at": key.created_at.isoformat(),
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }


@keys_app.command("list")
def list_keys(
    include_revoked: Annotated[bool, typer.Option("--all", help="Include revoked keys.")] = False,
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the keys as JSON (hints only).")] = False,
) -> None:
    """List keys (hints only; keys themselves are never stored)."""
    with _key_store(db) as store:
        keys = store.list(include_revoked=include_revoked)
    if as_json:
        print(json.dumps({"keys": [key_dict(k) for k in keys]}, indent=2))
        return
    if not keys:
        Console().print("No keys.")
        return
    Console().print(_table(keys, "API keys", show_revoked=include_revoked))


@keys_app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key id shown by 'keys list', e.g. key_1a2b3c4d5e6f.")],
    db: DbOption = None,
) -> None:
    """Revoke a key; running gateways refuse it within their key cache TTL."""
    with _key_store(db) as store:
        revoked = store.revoke(key_id)
    if not revoked:
        Console(stderr=True).print(f"No active key with id {key_id!r}.")
        raise typer.Exit(code=1)
    Console().print(f"Revoked {key_id}.")
