"""``interlock eval`` checks the models it will call before any call, locally and on a running gateway."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from gateway_harness import openai_deployment, running_gateway

MISSING = "INTERLOCK_TEST_EVAL_UNSET_KEY"
SUITE = [{"id": "ping", "category": "classification", "scorer": "exact", "expected": "echo: ping",
          "messages": [{"role": "user", "content": "ping"}]}]


@pytest.fixture(autouse=True)
def unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MISSING, raising=False)


def config(upstream_url: str, tmp_path: Path) -> dict[str, Any]:
    return {"server": {"auth": False}, "accounting": {"database_url": str(tmp_path / "ledger.db")},
            "deployments": [openai_deployment("vendor", upstream_url, model="keyless", api_key_env=MISSING),
                            openai_deployment("house", upstream_url, model="open")]}


def test_a_model_without_its_key_stops_the_run_before_any_call(
    interlock: Any, write_jsonl: Any, openai_upstream: Any, tmp_path: Path
) -> None:
    upstream, url = openai_upstream
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(config(url, tmp_path)), encoding="utf-8")
    suite = write_jsonl("suite.jsonl", SUITE)
    before = len(upstream.received)

    result = interlock("eval", suite, "-m", "open,keyless", "--config", path, "--out", tmp_path / "r.jsonl")

    assert result.exit_code == 2, result.output
    assert f"keyless: no deployment can serve it: deployment vendor: environment variable {MISSING} is not set" \
        in result.stderr
    assert "open:" not in result.stderr
    assert "Starting a private gateway" not in result.stderr
    assert len(upstream.received) == before and not (tmp_path / "r.jsonl").exists()


def test_a_running_gateway_is_asked_through_readyz(
    interlock: Any, write_jsonl: Any, openai_upstream: Any, tmp_path: Path
) -> None:
    upstream, url = openai_upstream
    suite = write_jsonl("suite.jsonl", SUITE)
    with running_gateway(config(url, tmp_path), str(tmp_path)) as (gateway, _runtime):
        before = len(upstream.received)
        refused = interlock("eval", suite, "-m", "keyless", "--base-url", gateway, "--out", tmp_path / "r.jsonl")
        ran = interlock("eval", suite, "-m", "open", "--base-url", gateway, "--out", tmp_path / "r.jsonl",
                        "--cache", tmp_path / "c.sqlite")
    assert refused.exit_code == 2 and f"environment variable {MISSING} is not set" in refused.stderr
    assert ran.exit_code == 0, ran.output
    assert len(upstream.received) == before + 1
