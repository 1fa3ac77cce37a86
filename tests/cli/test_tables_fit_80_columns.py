"""On an 80-column terminal the listing commands fit, never cut a figure, and offer ``--json`` for the rest."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from interlock.cli.main import app
from interlock.config.load import parse_config
from interlock.storage.database import open_database
from interlock.accounting.ledger import SqlLedgerStore
from interlock.accounting.records import UsageRecord
from interlock.config.history import ConfigHistory
from interlock.versions.migrations import open_versions_database
from interlock.versions.results import ShadowResult, SideOutcome
from interlock.versions.store import SqlShadowStore

LONG_MODEL = "anthropic-claude-sonnet-4-20250514-eu-west-dedicated-deployment"
LONG_TEAM = "claims-processing-europe-west-and-the-other-regions"
CONFIG = """
deployments:
  - {name: a-deployment-with-a-rather-long-name, type: openai, model: m, vendor: v, perimeter: internal,
     context_window: 100, base_url: 'http://127.0.0.1:1/v1', price: {input_per_mtok: 0.1, output_per_mtok: 0.2}}
"""


def run80(*args: str | Path) -> Any:
    result = CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "80"}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def assert_fits(output: str) -> str:
    widest = max(output.splitlines(), key=len)
    assert len(widest) <= 80, widest
    return " ".join(output.split())


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "interlock.db"
    ledger = SqlLedgerStore(open_database(str(path)))
    ledger.append([UsageRecord(
        model=LONG_MODEL, team=LONG_TEAM, key_id="key_0123456789ab", category="code",
        prompt_tokens=123_456_789, completion_tokens=98_765_432, cached_tokens=1_234_567,
        cost_usd=Decimal("12345.678"), baseline_cost_usd=Decimal("23456.789"))])
    ledger.close()
    versions = open_versions_database(str(path))
    ConfigHistory(versions).record(parse_config(CONFIG, "/etc/interlock/a/rather/deep/path/gateway.yaml"), CONFIG)
    side = SideOutcome(model=LONG_MODEL, deployment="d", text="same answer", latency_ms=120, cost_usd=Decimal("0.01"))
    SqlShadowStore(versions).add(ShadowResult(alias="chat", request_id="r1", ts=datetime.now(UTC),
                                              primary=side, shadow=side))
    versions.close()
    return path


def test_spend_keeps_every_figure_whole_at_80_columns(db: Path) -> None:
    said = assert_fits(run80("spend", "--by", "model", "--db", db).output)
    for figure in ("$12,345.68", "$23,456.79", "$11,111.11", "47.4%"):
        assert figure in said
    assert "--json has every figure" in said
    rows = json.loads(run80("spend", "--by", "team", "--db", db, "--json").stdout)["rows"]
    assert rows[0]["group"] == LONG_TEAM and rows[0]["prompt_tokens"] == 123_456_789


def test_keys_list_fits_and_has_json(db: Path) -> None:
    run80("keys", "create", "--team", LONG_TEAM, "--budget-usd", "123456", "--rpm", "6000",
          "--models", f"{LONG_MODEL},gpt-4.1-mini", "--db", db)
    listing = run80("keys", "list", "--all", "--db", db).output
    assert_fits(listing)
    keys = json.loads(run80("keys", "list", "--db", db, "--json").stdout)["keys"]
    assert keys[0]["team"] == LONG_TEAM and keys[0]["models"] == [LONG_MODEL, "gpt-4.1-mini"]
    assert keys[0]["key_id"] in listing  # the id, copied into `keys revoke`, is never folded
    assert "secret" not in keys[0] and keys[0]["budget_usd"] == "123456"


def test_config_history_fits_and_has_json(db: Path) -> None:
    listing = run80("config", "history", "--db", db).output
    assert_fits(listing)
    configs = json.loads(run80("config", "history", "--db", db, "--json").stdout)["configs"]
    assert configs[0]["hash"] in listing and configs[0]["source"].endswith("gateway.yaml")


def test_versions_compare_fits(db: Path) -> None:
    assert_fits(run80("versions", "compare", "chat", "--db", db).output)
    assert json.loads(run80("versions", "compare", "chat", "--db", db, "--json").stdout)
