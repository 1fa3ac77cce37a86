"""``interlock config history|rollback`` and ``interlock versions compare`` on a real SQLite file."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import typer
from typer.testing import CliRunner

from interlock.cli.versions_cmd import add_config_commands, versions_app
from interlock.config.load import load_config, parse_config
from interlock.config.history import ConfigHistory
from interlock.versions.migrations import open_versions_database
from interlock.versions.results import ShadowResult, SideOutcome
from interlock.versions.store import SqlShadowStore
from versions.builders import CONFIG_V1

config_app = typer.Typer()
add_config_commands(config_app)
app = typer.Typer()
app.add_typer(config_app, name="config")
app.add_typer(versions_app, name="versions")
runner = CliRunner()

CONFIG_V2 = CONFIG_V1.replace("context_window: 1000", "context_window: 2000")


def invoke(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), env={"COLUMNS": "200", **(env or {})})


def record_two_configs(tmp_path: Path) -> tuple[str, Path, str, str]:
    db_url = str(tmp_path / "cli.db")
    path = tmp_path / "gateway.yaml"
    path.write_text(CONFIG_V1)
    db = open_versions_database(db_url)
    history = ConfigHistory(db)
    v1 = load_config(path)
    history.record(v1, CONFIG_V1, reason="startup")
    v2 = parse_config(CONFIG_V2, source=str(path))
    history.record(v2, CONFIG_V2, reason="SIGHUP")
    path.write_text(CONFIG_V2)
    db.close()
    return db_url, path, v1.hash, v2.hash


def test_history_lists_and_shows_diffs(tmp_path: Path) -> None:
    db_url, _, v1, v2 = record_two_configs(tmp_path)
    listed = invoke("config", "history", env={"INTERLOCK_DB_URL": db_url})
    assert listed.exit_code == 0, listed.output
    assert listed.output.index(v2) < listed.output.index(v1)  # newest first
    assert "SIGHUP" in listed.output and "startup" in listed.output and "+1 -1" in listed.output
    shown = invoke("config", "history", "--show", v2[:6], "--db", db_url)
    assert shown.exit_code == 0 and "-    context_window: 1000\n+    context_window: 2000" in shown.output
    missing = invoke("config", "history", "--show", "ffff", "--db", db_url)
    assert missing.exit_code == 1 and "no applied config" in missing.output
    empty = invoke("config", "history", "--db", str(tmp_path / "empty.db"))
    assert empty.exit_code == 0 and "No configs recorded yet" in empty.output


def test_rollback_writes_the_stored_config_to_the_file(tmp_path: Path) -> None:
    db_url, path, v1, _ = record_two_configs(tmp_path)
    result = invoke("config", "rollback", v1[:8], "--db", db_url)
    assert result.exit_code == 0, result.output
    assert path.read_text() == CONFIG_V1
    assert f"wrote config {v1}" in result.output and "SIGHUP" in result.output
    again = invoke("config", "rollback", v1, "--db", db_url)
    assert again.exit_code == 0 and "already holds" in again.output
    other = tmp_path / "elsewhere.yaml"
    assert invoke("config", "rollback", v1, "--db", db_url, "--config-file", str(other)).exit_code == 0
    assert other.read_text() == CONFIG_V1
    unknown = invoke("config", "rollback", "ffff", "--db", db_url)
    assert unknown.exit_code == 1 and "no applied config" in unknown.output


def test_compare_summarises_an_alias(tmp_path: Path) -> None:
    db_url = str(tmp_path / "cli.db")
    db = open_versions_database(db_url)
    store = SqlShadowStore(db)
    ts = datetime(2026, 5, 1, tzinfo=UTC)
    for i, (answer, shadow) in enumerate([("Yes", "yes"), ("No", "Maybe"), ("OK", "ok ")]):
        store.add(
            ShadowResult(
                "triage",
                f"r{i}",
                ts,
                SideOutcome("qwen@v1", "qwen-a", answer, 100 * (i + 1), 10, 2, Decimal("0.001")),
                SideOutcome("llama", "llama-a", shadow, 50 * (i + 1), 10, 2, None),
            )
        )
    db.close()

    table = invoke("versions", "compare", "triage", "--db", db_url)
    assert table.exit_code == 0, table.output
    assert "66.7%" in table.output and "qwen@v1" in table.output and "unpriced" in table.output
    data = json.loads(
        invoke("versions", "compare", "triage", "--json", "--scorer", "rouge_l", "--db", db_url).output
    )
    assert data["count"] == 3 and abs(data["exact_agreement"] - 2 / 3) < 1e-9
    assert abs(data["scored_agreement"] - 2 / 3) < 1e-9
    assert data["primary"]["latency_p50_ms"] == 200 and data["shadow"]["latency_p95_ms"] == 150
    assert data["primary"]["total_cost_usd"] == "0.003" and data["shadow"]["total_cost_usd"] is None
    missing = invoke("versions", "compare", "support", "--db", db_url)
    assert missing.exit_code == 1 and "Aliases with results: triage (3)" in missing.output
    bad = invoke("versions", "compare", "triage", "--scorer", "nope", "--db", db_url)
    assert bad.exit_code == 1 and "unknown scorer" in bad.output
