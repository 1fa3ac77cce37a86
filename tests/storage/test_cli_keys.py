"""``interlock keys``: create prints the key once; list never shows it; revoke disables it."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from interlock.cli.keys import keys_app
from interlock.storage.database import open_database
from interlock.accounting.keys import SqlKeyStore

app = typer.Typer()
app.add_typer(keys_app, name="keys")
runner = CliRunner()


def invoke(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, ["keys", *args], env={"COLUMNS": "200", **(env or {})})


def test_create_list_revoke(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    created = invoke(
        "create",
        "--team",
        "ml",
        "--budget-usd",
        "100",
        "--period",
        "day",
        "--rpm",
        "60",
        "--tpm",
        "50000",
        "--models",
        "gpt-4.1-mini, llama-3.1-8b",
        "--db",
        db,
    )
    assert created.exit_code == 0, created.output
    secret = created.output.strip().splitlines()[-1]
    assert secret.startswith("il-")

    store = SqlKeyStore(open_database(db))
    key = store.lookup(secret)
    assert key is not None
    assert (key.team, key.budget_usd, key.budget_period, key.rpm, key.tpm) == ("ml", 100, "day", 60, 50000)
    assert key.models == ("gpt-4.1-mini", "llama-3.1-8b")

    listed = invoke("list", env={"INTERLOCK_DB_URL": db})
    assert listed.exit_code == 0
    assert key.key_id in listed.output and "$100.00/day" in listed.output and key.key_hint in listed.output
    assert secret not in listed.output

    revoked = invoke("revoke", key.key_id, "--db", db)
    assert revoked.exit_code == 0 and f"Revoked {key.key_id}" in revoked.output
    assert store.lookup(secret) is None
    assert "No keys." in invoke("list", "--db", db).output
    assert key.key_id in invoke("list", "--all", "--db", db).output
    store.db.close()


def test_revoking_an_unknown_key_fails(tmp_path: Path) -> None:
    result = invoke("revoke", "key_000000000000", "--db", str(tmp_path / "cli.db"))
    assert result.exit_code == 1
    assert "No active key" in result.output


def test_bad_budget_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke("create", "--team", "ml", "--budget-usd", "lots", "--db", str(tmp_path / "cli.db"))
    assert result.exit_code == 2
    assert "not a number" in result.output
