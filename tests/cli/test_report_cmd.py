"""``interlock report eval`` and ``interlock calibrate``: hand-made results, a mix file, a real ledger."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from interlock.config.defaults import EMBEDDED_MODEL
from interlock.evaluation import ItemResult, Results, ResultsHeader
from interlock.storage.database import open_database
from interlock.accounting.ledger import SqlLedgerStore
from interlock.accounting.records import UsageRecord

FRONTIER = "frontier-large"
# (model, category) -> scores of its items, paired by position (40 per task: enough for calibration's
# paired bounds); the frontier costs $0.002 a request, the open model nothing. On classification the
# open model answers exactly as the frontier does; on extraction it gets nothing right.
SCORES = {
    (FRONTIER, "extraction"): [1] * 40,
    (FRONTIER, "classification"): [1, 1, 1, 0] * 10,
    (EMBEDDED_MODEL, "extraction"): [0] * 40,
    (EMBEDDED_MODEL, "classification"): [1, 1, 1, 0] * 10,
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
    # Classification (half the suite) moves wholly to the free open model; on extraction the floor leaves
    # exactly 5% (1 - 0.95 of a model that gets nothing right): 52.5% of the workload and of the spend.
    assert "52% of the workload" in result.stdout and "cutting spend by 52%" in result.stdout
    assert "about $1,050 a month at 1,000,000 requests" in result.stdout


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
    assert "76% of the workload" in result.stdout  # 3 of 4 classified requests are classification, + 5% of 1
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


def test_bad_results_file_names_the_line(interlock: Any, results_file: Path, tmp_path: Path) -> None:
    lines = results_file.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace('"score":1.0', '"score":7.0')
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = interlock("report", "eval", broken, "--out", tmp_path / "r.html")
    assert result.exit_code == 1 and "broken.jsonl:3: score" in result.stderr
