"""End to end: the embedded model as the open tier, a loopback OpenAI-format server as the frontier tier."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
import yaml
from gateway_harness import openai_deployment, running_gateway

from interlock.config.defaults import default_config

pytestmark = pytest.mark.embedded

QUALITY = {
    "version": 1, "source": "test: as if calibrated on the customer's own suites", "date": "2026-11-29",
    "families": [
        {"pattern": "smollm2-135m-instruct", "quality": {"extraction": 0.94, "classification": 0.94, "multi_step_reasoning": 0.10}},
        {"pattern": "mid", "quality": {"extraction": 0.95, "classification": 0.95, "multi_step_reasoning": 0.70}},
        {"pattern": "frontier", "quality": {"extraction": 0.96, "classification": 0.96, "multi_step_reasoning": 0.92}},
    ],
}

EXTRACT = ("Extract the invoice number, the total amount and the due date from this text and return JSON: "
           "'Invoice INV-2291 from Acme Supplies. Total due: $1,240.50 by 15 March 2026.'")
REASON = ("A train leaves at 9:40 and travels 210 km at 84 km/h, then waits 25 minutes, then covers 96 km at 64 km/h. "
          "A second train leaves 50 minutes later and averages 90 km/h over the same 306 km with no stop. "
          "Which arrives first and by how many minutes? Work through it step by step.")


@pytest.fixture(scope="module")
def config(openai_upstream, tmp_path_factory) -> dict:
    _, up = openai_upstream
    table = tmp_path_factory.mktemp("q") / "quality.yaml"
    table.write_text(yaml.safe_dump(QUALITY))
    embedded = default_config({}).config.deployments[0].model_dump(mode="json")
    return {
        "deployments": [
            embedded,
            openai_deployment("mid", up, price={"input_per_mtok": 0.4, "output_per_mtok": 1.6}, context_window=128000,
                              open_weight=True, perimeter="internal"),
            openai_deployment("frontier", up, price={"input_per_mtok": 2.0, "output_per_mtok": 8.0}, context_window=128000),
        ],
        "routes": [{"name": "triage-low", "error_cost": "low"}, {"name": "triage-high", "error_cost": "high"}],
        "routing": {"quality_table": str(table)},
    }


@pytest.fixture(scope="module")
def client(config) -> Iterator[openai.OpenAI]:
    with running_gateway(config) as (url, _):
        yield openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0)


def _served(client: openai.OpenAI, model: str, content: str, **kw) -> tuple[str, dict[str, str]]:
    raw = client.chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": content}], max_tokens=8, **kw)
    raw.parse()
    return raw.headers["x-interlock-model"], dict(raw.headers)


def test_extraction_goes_to_the_open_model_with_an_explanation(client) -> None:
    model, headers = _served(client, "auto", EXTRACT)
    assert model == "smollm2-135m-instruct"
    assert headers["x-interlock-route"] == "auto; category=extraction"
    assert "smollm2-135m-instruct is the cheapest" in headers["x-interlock-decision"]


def test_multi_step_reasoning_goes_to_the_frontier_model(client) -> None:
    model, headers = _served(client, "auto", REASON)
    assert model == "frontier"
    assert headers["x-interlock-route"] == "auto; category=multi_step_reasoning"


def test_prompt_longer_than_small_context_goes_to_a_model_that_fits(client) -> None:
    document = " ".join(f"Line {i}: shipment SKU-{i:05d} arrived at dock {i % 7}." for i in range(300))
    model, _ = _served(client, "auto", EXTRACT + "\n\nAlso list every SKU in this log:\n" + document)
    assert model == "mid"


def test_request_needing_tools_skips_models_without_tools(client) -> None:
    tools = [{"type": "function", "function": {"name": "save_fields", "parameters": {"type": "object"}}}]
    model, _ = _served(client, "auto", EXTRACT, tools=tools)
    assert model == "mid"


def test_high_error_cost_picks_a_stronger_model_than_low(client) -> None:
    low, _ = _served(client, "triage-low", EXTRACT)
    high, _ = _served(client, "triage-high", EXTRACT)
    q = {f["pattern"]: f["quality"]["extraction"] for f in QUALITY["families"]}
    assert low == "smollm2-135m-instruct"
    assert q[high] > q[low]


def test_route_header_selects_a_route(client) -> None:
    _, headers = _served(client, "smollm2-135m-instruct", EXTRACT, extra_headers={"x-interlock-route": "triage-low"})
    assert headers["x-interlock-route"].startswith("triage-low;")


def test_route_dry_run_cli_explains_every_candidate(config, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config))
    run = subprocess.run([sys.executable, "-m", "interlock.cli.main", "route", REASON, "--config", str(path), "--json"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    record = json.loads(run.stdout)
    assert record["chosen"] == "frontier"
    assert record["features"]["category"] == "multi_step_reasoning"
    assert record["features"]["evidence"]  # the classifier's strongest features, for the explanation
    dropped = {c["model"]: c["reason"] for c in record["candidates"] if not c["kept"]}
    assert "below required" in dropped["smollm2-135m-instruct"]
    assert record["baseline_model"] == "frontier" and len(record["config_hash"]) == 16
