"""``interlock calibrate`` and ``interlock policy simulate`` as a user runs them: files in, policy out, replay."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from interlock.config.defaults import EMBEDDED_MODEL
from interlock.evaluation import ItemResult, Results, ResultsHeader
from interlock.routing.policy_file import load_policy

FRONTIER = "frontier-large"
TOPICS = {"claims_triage": "Triage this insurance claim {i}: water damage in the kitchen, policy {d}, urgent?",
          "contract_qa": "In the supply contract {i}, which party bears the freight risk under clause {d}?"}


def _results(n: int = 120, messages: bool = True) -> Results:
    u = np.random.default_rng(0).random((len(TOPICS), n))
    items = []
    for t, (task, template) in enumerate(TOPICS.items()):
        for i in range(n):
            prompt = [{"role": "user", "content": template.format(i=i, d=i % 9)}] if messages else None
            for model, quality, cost in ((FRONTIER, 0.9, 0.002), (EMBEDDED_MODEL, 0.88 if t == 0 else 0.4, 0.0)):
                items.append(ItemResult(item_id=f"{task}-{i}", model=model, category=task, messages=prompt,
                                        score=float(u[t, i] < quality), cost_usd=cost, latency_ms=100.0))
    return Results(header=ResultsHeader(suite="customer", models=[FRONTIER, EMBEDDED_MODEL]), items=items)


@pytest.fixture
def results_file(tmp_path: Path) -> Path:
    path = tmp_path / "results.jsonl"
    _results().write_jsonl(path)
    return path


def test_calibrate_writes_a_policy_and_its_task_classifier(interlock: Any, results_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "policy.yaml"
    result = interlock("calibrate", results_file, "--target", "0.95", "--out", out, "--open-models", EMBEDDED_MODEL,
                       "--requests-per-month", "1000000")
    assert result.exit_code == 0, result.output
    loaded = load_policy(out)
    policy = loaded.policy
    assert policy.classifier is not None and policy.classifier.labels == sorted(TOPICS)
    assert (out.parent / policy.classifier.path).is_file()
    assert "held-out accuracy" in result.stdout and "routing:\n    policy:" in result.stdout
    claims = policy.tasks["claims_triage"]
    assert claims.models[0].model == EMBEDDED_MODEL and claims.models[0].share > 0.5
    assert policy.data.sha256 and policy.settings.target == 0.95
    assert "saved a month at 1,000,000 requests" in result.stdout


def test_calibrate_with_a_mix_file(interlock: Any, results_file: Path, tmp_path: Path) -> None:
    mix = tmp_path / "mix.json"
    mix.write_text(json.dumps({"claims_triage": 3, "contract_qa": 1, "translation": 1}), encoding="utf-8")
    out = tmp_path / "policy.yaml"
    result = interlock("calibrate", results_file, "--out", out, "--mix", mix, "--open-models", EMBEDDED_MODEL)
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(out.read_text())["traffic"] == {"claims_triage": 0.75, "contract_qa": 0.25}
    assert "20% of the traffic mix in mix.json is in categories the suite does not cover (translation)" in result.stderr


def test_custom_tasks_without_prompts_are_refused_with_a_way_out(interlock: Any, tmp_path: Path) -> None:
    path = tmp_path / "bare.jsonl"
    _results(messages=False).write_jsonl(path)
    result = interlock("calibrate", path, "--out", tmp_path / "p.yaml")
    assert result.exit_code == 1 and "carry no prompts" in result.stderr and "rerun `interlock eval`" in result.stderr
    assert not (tmp_path / "p.yaml").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--target", "1.5"], "must be in (0, 1]"),
    (["--baseline", "nobody"], "baseline 'nobody' is not among the evaluated models"),
    (["--uncovered", "nobody"], "uncovered='nobody'"),
])
def test_calibrate_refuses_bad_options(interlock: Any, results_file: Path, tmp_path: Path, args: list[str],
                                       message: str) -> None:
    result = interlock("calibrate", results_file, "--out", tmp_path / "p.yaml", *args)
    assert result.exit_code in (1, 2) and message in result.output
    assert not (tmp_path / "p.yaml").exists()


def test_a_row_without_cost_is_named(interlock: Any, results_file: Path, tmp_path: Path) -> None:
    lines = results_file.read_text(encoding="utf-8").split("\n")
    row = json.loads(lines[3])
    row["cost_usd"] = None
    lines[3] = json.dumps(row)
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join(lines), encoding="utf-8")
    result = interlock("calibrate", broken, "--out", tmp_path / "p.yaml")
    assert result.exit_code == 1 and f"row 4 (item 'claims_triage-1', model '{FRONTIER}'): no cost_usd" in result.stderr


def test_policy_simulate_prints_promise_and_delivery(interlock: Any, results_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "policy.yaml"
    assert interlock("calibrate", results_file, "--out", out, "--open-models", EMBEDDED_MODEL).exit_code == 0
    held_out = tmp_path / "held_out.jsonl"
    fresh = _results(n=200)
    Results(header=fresh.header, items=[r.model_copy(update={"item_id": r.item_id + "-new"}) for r in fresh.items]
            ).write_jsonl(held_out)
    result = interlock("policy", "simulate", held_out, "--policy", out)
    assert result.exit_code == 0, result.output
    assert "promised → realized" in result.stdout and "claims_triage" in result.stdout
    overall = next(line for line in result.stdout.splitlines() if "overall" in line)
    assert overall.count("→") == 2 and "±" in overall
    assert all(len(line) <= 80 for line in result.stdout.splitlines())
    assert f"{EMBEDDED_MODEL} " in result.stdout.split("traffic:")[1]
