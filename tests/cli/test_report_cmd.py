"""``interlock report eval`` and ``interlock calibrate``: hand-made results, a mix file, a real ledger."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from gateway_harness import openai_deployment

from interlock.config.defaults import EMBEDDED_MODEL
from interlock.config.load import load_config
from interlock.evaluation import ItemResult, Results, ResultsHeader
from interlock.gateway.runtime import Runtime
from interlock.routing.quality import load_quality_table
from interlock.storage.database import open_database
from interlock.storage.ledger import SqlLedgerStore
from interlock.storage.records import UsageRecord

FRONTIER = "frontier-large"
# (model, category) -> scores of its items; the frontier costs $0.002 a request, the open model nothing.
SCORES = {
    (FRONTIER, "extraction"): [1, 1, 1, 1],
    (FRONTIER, "classification"): [1, 1, 1, 0],
    (EMBEDDED_MODEL, "extraction"): [1, 0, 1, 0],
    (EMBEDDED_MODEL, "classification"): [1, 1, 1, 0],
}
COST = {FRONTIER: 0.002, EMBEDDED_MODEL: 0.0}


@pytest.fixture
def results_file(tmp_path: Path) -> Path:
    items = [
        ItemResult(item_id=f"{category}-{k}", model=model, category=category, output="x", score=float(score),
                   latency_ms=100.0 + 10 * k, prompt_tokens=10, completion_tokens=5, cost_usd=COST[model])
        for (model, category), scores in SCORES.items()
        for k, score in enumerate(scores)
    ]
    results = Results(header=ResultsHeader(suite="hand-made", models=[FRONTIER, EMBEDDED_MODEL]), items=items)
    path = tmp_path / "results.jsonl"
    results.write_jsonl(path)
    return path


def test_report_is_self_contained_html_with_markdown(
    interlock: Any, results_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out" / "report.html"
    out.parent.mkdir()
    result = interlock("report", "eval", results_file, "--out", out, "--requests-per-month", "1000000")
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    sources = re.findall(r'\b(?:src|href)\s*=\s*"([^"]*)"', page)
    assert sum(s.startswith("data:image/png;base64,") for s in sources) >= 2
    assert all(s.startswith(("data:", "#")) for s in sources), sources
    assert "<link" not in page and "<script" not in page
    assert 'id="quality-by-category"' in page
    markdown = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert markdown.startswith("# Evaluation report: hand-made") and "## Quality per category" in markdown
    # Open models default to what the embedded catalog marks open_weight: the embedded model.
    assert f"can move to open models ({EMBEDDED_MODEL})" in markdown
    # Classification (half the suite) moves to the free open model: half the frontier's spend is saved.
    assert "50% of the workload" in result.stdout and "cutting spend by 50%" in result.stdout
    assert "about $1,000 a month at 1,000,000 requests" in result.stdout


def test_report_weighs_categories_by_the_ledger(interlock: Any, results_file: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "ledger.db"
    db = open_database(str(db_path))
    now = datetime.now(UTC)
    records = [UsageRecord(model=FRONTIER, category="classification", ts=now, cost_usd=Decimal("0.002"))
               for _ in range(3)]
    records += [UsageRecord(model=FRONTIER, category="extraction", ts=now)]
    records += [UsageRecord(model=FRONTIER, ts=now)]  # sent to a model directly: no category
    SqlLedgerStore(db).append(records)
    db.close()
    out = tmp_path / "report.html"

    result = interlock("report", "eval", results_file, "--out", out, "--mix-from-ledger", "--db", db_path)

    assert result.exit_code == 0, result.output
    assert "the ledger's traffic (4 classified requests)" in result.stdout
    assert "75% of the workload" in result.stdout  # 3 of 4 classified requests are classification
    # Volume from the ledger's run rate: 5 requests over the minimum one-hour window, over a month.
    assert "a month at 3,652 requests" in result.stdout
    assert "1 ledger requests went straight to a model" in result.stderr
    assert "75%" in (tmp_path / "report.md").read_text(encoding="utf-8")


def test_missing_ledger_is_an_error_not_a_new_file(
    interlock: Any, results_file: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere.db"
    result = interlock("report", "eval", results_file, "--mix-from-ledger", "--db", missing)
    assert result.exit_code == 2 and "no usage ledger" in result.output
    assert not missing.exists()


def test_calibrate_writes_a_policy_routing_reads(interlock: Any, results_file: Path, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"

    result = interlock("calibrate", results_file, "--target", "0.95", "--out", policy)

    assert result.exit_code == 0, result.output
    written = yaml.safe_load(policy.read_text(encoding="utf-8"))
    assert written["kind"] == "interlock.quality_table" and written["target"] == 0.95
    assert written["routes"] == {"extraction": FRONTIER, "classification": EMBEDDED_MODEL}
    assert written["expected"]["savings_fraction"] == pytest.approx(0.5)
    assert "savings 50.0% of that spend" in result.stdout and "(all-frontier)" in result.stdout
    assert "quality 100.0% of frontier-large's" in result.stdout  # the open model ties it on classification
    table = load_quality_table(policy)
    assert table.lookup(EMBEDDED_MODEL, "extraction") == pytest.approx(0.5)
    assert table.lookup(FRONTIER, "classification") == pytest.approx(0.75)
    assert table.lookup("some-other-model", "extraction") is None

    # A gateway config naming the file: the router's table is the calibrated one.
    config = tmp_path / "gateway.yaml"
    deployments = [openai_deployment(m, "http://127.0.0.1:9") for m in (FRONTIER, EMBEDDED_MODEL)]
    gateway = {"routing": {"quality_table": str(policy)}, "deployments": deployments}
    config.write_text(yaml.safe_dump(gateway), encoding="utf-8")
    router = Runtime(load_config(config)).router
    assert router.table.lookup(EMBEDDED_MODEL, "classification") == pytest.approx(0.75)


def test_calibrate_with_a_mix_file(interlock: Any, results_file: Path, tmp_path: Path) -> None:
    mix = tmp_path / "mix.json"
    mix.write_text(json.dumps({"extraction": 3, "classification": 1}), encoding="utf-8")
    policy = tmp_path / "policy.yaml"
    result = interlock(
        "calibrate", results_file, "--out", policy, "--mix", mix, "--open-models", EMBEDDED_MODEL
    )
    assert result.exit_code == 0, result.output
    expected = yaml.safe_load(policy.read_text(encoding="utf-8"))["expected"]
    assert expected["mix"] == {"extraction": 0.75, "classification": 0.25}
    assert expected["open_share"] == pytest.approx(0.25)
    assert "take 25% of the traffic" in result.stdout


def test_calibrate_reads_a_cost_mix_file_and_notes_uncovered_traffic(
    interlock: Any, results_file: Path, tmp_path: Path
) -> None:
    """The cost projection's mix file (docs/economics.md) gives its shares; `code` was not evaluated."""
    shape = {"prompt_tokens": 400, "completion_tokens": 80}
    categories = {"extraction": 0.6, "classification": 0.2, "code": 0.2}
    mix = tmp_path / "mix.yaml"
    loads = {c: {"share": w, **shape} for c, w in categories.items()}
    mix.write_text(yaml.safe_dump({"categories": loads}), encoding="utf-8")
    policy = tmp_path / "policy.yaml"
    result = interlock("calibrate", results_file, "--out", policy, "--mix", mix)
    assert result.exit_code == 0, result.output
    written = yaml.safe_load(policy.read_text(encoding="utf-8"))
    assert written["expected"]["mix"] == {"extraction": 0.75, "classification": 0.25}
    assert "20% of the traffic mix in mix.yaml is in categories the suite does not cover (code)" in (
        result.stderr
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "1.5"], "must be in (0, 1]"),
        (["--mix", "{mix}", "--mix-from-ledger"], "not both"),
        (["--baseline", "nobody"], "baseline 'nobody' is not among the evaluated models"),
    ],
)
def test_calibrate_refuses_bad_options(
    interlock: Any, results_file: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    mix = tmp_path / "mix.json"
    mix.write_text('{"code": 1}', encoding="utf-8")
    options = [a.format(mix=mix) for a in args]
    result = interlock("calibrate", results_file, "--out", tmp_path / "p.yaml", *options)
    assert result.exit_code in (1, 2) and message in result.output
    assert not (tmp_path / "p.yaml").exists()


def test_bad_results_file_names_the_line(interlock: Any, results_file: Path, tmp_path: Path) -> None:
    lines = results_file.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace('"score":1.0', '"score":7.0')
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = interlock("calibrate", broken, "--out", tmp_path / "p.yaml")
    assert result.exit_code == 1 and "broken.jsonl:3: score" in result.stderr
