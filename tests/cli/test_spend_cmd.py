"""``interlock spend`` and ``interlock costs project``: figures checked against hand computations."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from gateway_harness import openai_deployment
from typer.testing import CliRunner

from interlock.cli.main import app
from interlock.storage.database import open_database
from interlock.accounting.ledger import SqlLedgerStore
from interlock.accounting.records import UsageRecord

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "examples" / "cost-scenario.yaml"
D = Decimal


def run(*args: str | Path, code: int = 0) -> Any:
    result = CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "220"}, catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def project_json(*args: str | Path) -> dict[str, Any]:
    return json.loads(run("costs", "project", *args, "--json").stdout)


def by_name(projection: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in projection["scenarios"]}


# --- the shipped scenario: 5 million calls a month ---------------------------------------------

# (category, share, prompt tokens, completion tokens) as stated in examples/cost-scenario.yaml
MIX = [
    ("customer_support", D("0.40"), 5000, 800),
    ("document_analysis", D("0.20"), 15000, 1000),
    ("extraction", D("0.15"), 8000, 600),
    ("code", D("0.15"), 6000, 2000),
    ("multi_step_reasoning", D("0.10"), 4000, 3000),
]
CALLS = 5_000_000
SONNET_IN, SONNET_OUT = D(3), D(15)  # USD per million tokens
OPEN_PER_MTOK = 8 * D("2.50") * 1_000_000 / (12_000 * 3600 * D("0.8"))  # 8 x H100 at $2.50/h, 12k tok/s, 80%


def frontier_call(prompt: int, completion: int) -> Decimal:
    return (prompt * SONNET_IN + completion * SONNET_OUT) / 1_000_000


def open_call(prompt: int, completion: int) -> Decimal:
    return (prompt + completion) * OPEN_PER_MTOK / 1_000_000


def test_shipped_scenario_reproduces_the_hand_computation() -> None:
    frontier = sum(share * CALLS * frontier_call(p, c) for _, share, p, c in MIX)
    open_only = sum(share * CALLS * open_call(p, c) for _, share, p, c in MIX)
    # The quality table keeps code and multi-step reasoning on the frontier model; the rest go open.
    on_frontier = {"code", "multi_step_reasoning"}
    routed = sum(
        share * CALLS * (frontier_call(p, c) if name in on_frontier else open_call(p, c))
        for name, share, p, c in MIX
    )
    assert frontier == D("203250")  # 0.4*$0.027 + 0.2*$0.060 + 0.15*$0.033 + 0.15*$0.048 + 0.1*$0.057 a call
    assert D(180_000) <= frontier <= D(300_000) and D(20_000) <= open_only <= D(35_000)

    projection = project_json("--calls-per-month", CALLS, "--mix", SCENARIO)
    scenarios = by_name(projection)
    assert D(scenarios["all-frontier"]["monthly_cost_usd"]) == frontier
    assert D(scenarios["all-open"]["monthly_cost_usd"]).quantize(D("0.01")) == open_only.quantize(D("0.01"))
    assert D(scenarios["routed"]["monthly_cost_usd"]).quantize(D("0.01")) == routed.quantize(D("0.01"))
    assert {m["category"]: m["routed_to"] for m in projection["mix"]} == {
        name: "claude-sonnet-4" if name in on_frontier else "llama-3.3-70b-instruct" for name, *_ in MIX
    }
    prices = projection["prices"]
    sonnet = prices["claude-sonnet-4"]
    assert (D(sonnet["input_per_mtok"]), D(sonnet["output_per_mtok"])) == (SONNET_IN, SONNET_OUT)
    assert D(prices["llama-3.3-70b-instruct"]["usd_per_mtok"]) == OPEN_PER_MTOK

    text = run("costs", "project", "--calls-per-month", CALLS, "--mix", SCENARIO).stdout
    for figure in (frontier, open_only, routed):
        assert f"${figure.quantize(D('0.01')):,}" in text  # $203,250.00, $25,202.55, $84,204.86
    # the tokens per call and the prices it assumed are printed with the figures
    for assumed in ("15,000", "3,000", "$3.00", "$15.00", "$0.5787", "8 x H100-80GB at $2.50/GPU-hour"):
        assert assumed in text
    assert "-87.6%" in text and "-58.6%" in text


# --- mix files -----------------------------------------------------------------------------------


def write_yaml(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.fixture
def gateway_config(tmp_path: Path) -> Path:
    """A config with a closed model ($2/$8) and an open one ($0.10/$0.20) behind unused loopback URLs."""
    up = "http://127.0.0.1:9"
    return write_yaml(
        tmp_path / "gateway.yaml",
        {
            "accounting": {"database_url": str(tmp_path / "absent.db")},
            "deployments": [
                openai_deployment(
                    "gpt-4.1",
                    up,
                    price={"input_per_mtok": 2.0, "output_per_mtok": 8.0},
                    capabilities={"tools": True},
                ),
                openai_deployment(
                    "llama-3.3-70b-instruct",
                    up,
                    open_weight=True,
                    perimeter="internal",
                    price={"input_per_mtok": 0.1, "output_per_mtok": 0.2},
                ),
            ],
        },
    )


def test_mix_file_errors_name_the_field(tmp_path: Path) -> None:
    bad = write_yaml(
        tmp_path / "bad.yaml",
        {
            "categories": {
                "code": {"share": 0.5, "prompt_tokens": 10, "completion_tokens": 5},
                "coding": {"share": 0.4, "prompt_tokens": -1, "completion_tokens": 5},
            }
        },
    )
    out = run("costs", "project", "--calls-per-month", 10, "--mix", bad, code=2).output
    assert "categories.coding.prompt_tokens" in out
    fixed = write_yaml(
        tmp_path / "sum.yaml",
        {
            "categories": {
                "code": {"share": 0.5, "prompt_tokens": 10, "completion_tokens": 5},
                "extraction": {"share": 0.4, "prompt_tokens": 10, "completion_tokens": 5},
            }
        },
    )
    assert (
        "must add up to 1, not 0.9"
        in run("costs", "project", "--calls-per-month", 10, "--mix", fixed, code=2).output
    )


def test_config_prices_pinned_models_and_a_named_open_model(tmp_path: Path, gateway_config: Path) -> None:
    mix = write_yaml(
        tmp_path / "mix.json",
        {
            "categories": {
                "extraction": {"share": 0.75, "prompt_tokens": 1000, "completion_tokens": 100},
                "multi_step_reasoning": {
                    "share": 0.25,
                    "prompt_tokens": 400,
                    "completion_tokens": 600,
                    "cached_tokens": 200,
                    "model": "claude-opus-4-1",
                },
            }
        },
    )
    projection = project_json(
        "--calls-per-month",
        1000,
        "--mix",
        mix,
        "--config",
        gateway_config,
        "--open-model",
        "llama-3.3-70b-instruct",
    )
    picks = {m["category"]: (m["routed_to"], m["why"]) for m in projection["mix"]}
    assert picks == {
        "extraction": ("llama-3.3-70b-instruct", "routing policy"),
        "multi_step_reasoning": ("claude-opus-4-1", "pinned in the mix file"),
    }
    scenarios = by_name(projection)
    # all-frontier is the config's baseline, gpt-4.1:
    # 750 calls * (1000*$2 + 100*$8) + 250 calls * (400*$2 + 600*$8), per million tokens
    assert D(scenarios["all-frontier"]["monthly_cost_usd"]) == (750 * D(2800) + 250 * D(5600)) / 1_000_000
    # all-open: 750 * (1000*$0.1 + 100*$0.2) + 250 * (400*$0.1 + 600*$0.2) per Mtok
    assert D(scenarios["all-open"]["monthly_cost_usd"]) == (750 * D(120) + 250 * D(160)) / 1_000_000
    # routed: opus from the price catalog ($15 in, $1.50 cached, $75 out), 200 of the 400 prompt tokens cached
    opus_call = (200 * D(15) + 200 * D("1.5") + 600 * D(75)) / 1_000_000
    assert D(scenarios["routed"]["monthly_cost_usd"]) == 750 * D(120) / 1_000_000 + 250 * opus_call
    assert projection["prices"]["claude-opus-4-1"]["source"].startswith("price catalog")


def test_mix_from_the_ledger_else_the_default(tmp_path: Path, gateway_config: Path) -> None:
    default = project_json("--calls-per-month", 100, "--config", gateway_config)
    assert default["mix_source"].startswith("the default mix")
    db = tmp_path / "ledger.db"
    store = SqlLedgerStore(open_database(str(db)))
    store.append(
        [
            UsageRecord(model="m", category="code", prompt_tokens=p, completion_tokens=c)
            for p, c in ((100, 10), (300, 30), (201, 21))
        ]
        + [UsageRecord(model="m", category="translation", prompt_tokens=50, completion_tokens=50)]
        + [UsageRecord(model="m", category=None, prompt_tokens=9999, completion_tokens=9999)]
    )
    store.close()
    projection = project_json("--calls-per-month", 100, "--config", gateway_config, "--db", db)
    assert projection["mix_source"] == "the ledger's 4 classified requests (averages per category)"
    mix = {
        m["category"]: (D(m["share"]), m["prompt_tokens"], m["completion_tokens"]) for m in projection["mix"]
    }
    assert mix == {"code": (D("0.75"), 200, 20), "translation": (D("0.25"), 50, 50)}


def test_the_documented_mix_file_runs(tmp_path: Path) -> None:
    page = (ROOT / "docs" / "economics.md").read_text(encoding="utf-8")
    example = page.split("### The mix file", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    mix = tmp_path / "documented.yaml"
    mix.write_text(example, encoding="utf-8")
    scenarios = by_name(project_json("--calls-per-month", 1000, "--mix", mix))
    # all-frontier: 400 calls * (5000*$3 + 800*$15) + 600 calls * (6000*$3 + 2000*$15), per million tokens
    assert D(scenarios["all-frontier"]["monthly_cost_usd"]) == (400 * D(27000) + 600 * D(48000)) / 1_000_000
    assert {line["model"] for line in scenarios["routed"]["lines"]} >= {"claude-sonnet-4"}


# --- interlock spend ----------------------------------------------------------------------------


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    path = tmp_path / "spend.db"
    at = lambda day: datetime(2026, 3, day, 12, tzinfo=UTC)
    records = [
        UsageRecord(
            model="open",
            team="ml",
            key_id="key_a",
            category="code",
            ts=at(1),
            prompt_tokens=100,
            completion_tokens=50,
            cost_usd=D("0.0001"),
            baseline_cost_usd=D("0.0016"),
        ),
        UsageRecord(
            model="frontier",
            team="ml",
            key_id="key_a",
            category="code",
            ts=at(2),
            prompt_tokens=200,
            completion_tokens=100,
            cached_tokens=50,
            cost_usd=D("0.25"),
            baseline_cost_usd=D("0.25"),
        ),
        UsageRecord(
            model="open",
            team="ops",
            key_id="key_b",
            category="extraction",
            ts=at(3),
            prompt_tokens=10,
            completion_tokens=5,
            usage_estimated=True,
            cost_usd=D("0.5"),
            baseline_cost_usd=D("2.5"),
        ),
        UsageRecord(
            model="mystery",
            team="ops",
            key_id="key_b",
            ts=at(4),
            prompt_tokens=7,
            completion_tokens=3,
            cost_usd=None,
            baseline_cost_usd=D("0.01"),
        ),
    ]
    store = SqlLedgerStore(open_database(str(path)))
    store.append(records)
    store.close()
    return path


def test_spend_by_team_with_totals(ledger: Path) -> None:
    data = json.loads(run("spend", "--by", "team", "--db", ledger, "--json").stdout)
    rows = {r["group"]: r for r in data["rows"]}
    assert rows["ml"]["requests"] == 2 and D(rows["ml"]["cost_usd"]) == D("0.2501")
    assert D(rows["ml"]["savings_usd"]) == D("0.0015")
    assert (rows["ops"]["unpriced_requests"], rows["ops"]["estimated_requests"]) == (1, 1)
    assert D(rows["ops"]["savings_usd"]) == D(2)  # the unpriced request has no savings to count
    total = data["total"]
    assert (
        total["requests"],
        total["prompt_tokens"],
        total["completion_tokens"],
        total["cached_tokens"],
    ) == (4, 317, 158, 50)
    assert D(total["cost_usd"]) == D("0.7501") and D(total["baseline_cost_usd"]) == D("2.7616")

    text = run("spend", "--by", "team", "--db", ledger).stdout
    assert "$0.7501" not in text  # money over a cent is shown in cents
    for cell in ("ml", "ops", "total", "$0.75", "$2.76", "$2.00", "1 request(s) had no known price"):
        assert cell in text


def test_spend_date_range_includes_the_until_day(ledger: Path) -> None:
    data = json.loads(
        run(
            "spend",
            "--by",
            "model",
            "--since",
            "2026-03-02",
            "--until",
            "2026-03-03",
            "--db",
            ledger,
            "--json",
        ).stdout
    )
    assert {r["group"]: r["requests"] for r in data["rows"]} == {"frontier": 1, "open": 1}
    assert "No requests" in run("spend", "--since", "2027-01-01", "--db", ledger).stdout
    assert "YYYY-MM-DD" in run("spend", "--since", "March", "--db", ledger, code=2).output


def test_spend_without_a_ledger_says_where_it_looked(tmp_path: Path) -> None:
    assert "no usage ledger at" in run("spend", "--db", tmp_path / "none.db", code=2).output
