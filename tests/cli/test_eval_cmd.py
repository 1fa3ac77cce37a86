"""``interlock eval`` end to end: a private gateway over a loopback OpenAI-format upstream, then the cache."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from gateway_harness import openai_deployment, running_gateway

from interlock.cli.eval_cmd import in_process_models, private_config
from interlock.config.defaults import EMBEDDED_MODEL, default_config
from interlock.config.load import config_from_object
from interlock.config.schema import GatewayConfig
from interlock.evaluation import Results

PRICES = {"big": (10.0, 20.0), "small": (1.0, 2.0)}  # USD per million input, output tokens

SUITE = [
    {"suite": {"name": "cli-mini", "version": "2", "defaults": {"category": "classification"}}},
    {
        "id": "ping",
        "scorer": "exact",
        "expected": "echo: ping",
        "max_tokens": 8,
        "messages": [{"role": "user", "content": "ping"}],
    },
    {
        "id": "hello",
        "category": "extraction",
        "scorer": "contains",
        "expected": "world",
        "messages": [{"role": "user", "content": "hello world"}],
    },
    {
        "id": "miss",
        "category": "extraction",
        "scorer": "exact",
        "expected": "something else",
        "messages": [{"role": "user", "content": "abc"}],
    },
    {
        "id": "refund",
        "category": "customer_support",
        "scorer": "contains",
        "scorer_options": {"case_sensitive": False},
        "expected": ["REFUND", "money back"],
        "messages": [{"role": "user", "content": "Refund please"}],
    },
]
EXPECTED_SCORES = {"ping": 1.0, "hello": 1.0, "miss": 0.0, "refund": 1.0}


def gateway_config(upstream_url: str, tmp_path: Path) -> dict[str, Any]:
    """Two models on the loopback upstream; auth and the ledger on, as a real deployment would have them."""
    deployments = []
    for name, (inp, outp) in PRICES.items():
        price = {"type": "per_token", "input_per_mtok": inp, "output_per_mtok": outp}
        deployments.append(openai_deployment(name, upstream_url, price=price))
    return {
        "server": {"auth": True},
        "accounting": {"database_url": str(tmp_path / "ledger.db")},
        "deployments": deployments,
    }


@pytest.fixture
def config_file(openai_upstream: Any, tmp_path: Path) -> Path:
    _, url = openai_upstream
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(gateway_config(url, tmp_path)), encoding="utf-8")
    return path


def test_eval_runs_private_gateway_then_serves_rerun_from_cache(
    interlock: Any, write_jsonl: Any, config_file: Path, openai_upstream: Any, tmp_path: Path
) -> None:
    upstream, _ = openai_upstream
    suite = write_jsonl("suite.jsonl", SUITE)
    out, cache = tmp_path / "results.jsonl", tmp_path / "cache.sqlite"
    args = [suite, "-m", "big,small", "--config", config_file, "--cache", cache, "--out", out, "-j", "2"]
    before = len(upstream.received)

    first = interlock("eval", *args)

    assert first.exit_code == 0, first.output
    assert "authentication and the usage ledger off" in first.stderr
    assert len(upstream.received) - before == 8  # 4 items x 2 models
    assert not (tmp_path / "ledger.db").exists()  # the private copy kept no ledger
    results = Results.read_jsonl(out)
    assert results.header.suite == "cli-mini" and results.header.models == ["big", "small"]
    assert len(results.items) == 8 and not any(r.cached or r.error for r in results.items)
    for r in results.items:
        assert r.score == EXPECTED_SCORES[r.item_id], r
        assert r.output is not None and r.output.startswith("echo: ")
        assert r.latency_ms is not None and r.latency_ms > 0
        inp, outp = PRICES[r.model]
        assert r.prompt_tokens and r.completion_tokens
        assert r.cost_usd == pytest.approx((r.prompt_tokens * inp + r.completion_tokens * outp) / 1e6)
    categories = {r.item_id: r.category for r in results.items if r.model == "big"}
    assert categories == {
        "ping": "classification", "hello": "extraction", "miss": "extraction", "refund": "customer_support"
    }
    assert "Quality per category" in first.stdout and "customer support" in first.stdout

    second = interlock("eval", *args)

    assert second.exit_code == 0, second.output
    assert len(upstream.received) - before == 8  # nothing new reached the upstream
    rerun = Results.read_jsonl(out)
    assert all(r.cached for r in rerun.items)
    assert {(r.model, r.item_id): r.score for r in rerun.items} == {
        (r.model, r.item_id): r.score for r in results.items
    }
    assert "8 from the cache, 0 failed" in second.stderr


def test_eval_against_a_running_gateway(
    interlock: Any, write_jsonl: Any, openai_upstream: Any, tmp_path: Path
) -> None:
    _, upstream_url = openai_upstream
    suite = write_jsonl("suite.jsonl", SUITE[:2])
    out = tmp_path / "results.jsonl"
    config = gateway_config(upstream_url, tmp_path) | {"server": {"auth": False}}
    with running_gateway(config, str(tmp_path)) as (url, _runtime):
        unknown = interlock("eval", suite, "--models", "small,tiny", "--base-url", url, "--out", out)
        ran = interlock("eval", suite, "--models", "small,auto", "--base-url", url + "/v1",
                        "--cache", tmp_path / "c.sqlite", "--out", out)
    assert unknown.exit_code == 2 and "--models: unknown model 'tiny'" in unknown.stderr
    assert "catalog models: auto, big, small" in unknown.stderr  # as the gateway's /v1/models lists them
    assert ran.exit_code == 0, ran.output
    small, routed = Results.read_jsonl(out).items
    assert small.model == "small" and small.score == 1.0
    # The router is measured like a model; with no quality data it picks the cheaper model.
    assert routed.model == "auto" and routed.model_version == "small" and routed.score == 1.0


def test_unknown_model_fails_fast_listing_the_catalog(
    interlock: Any, write_jsonl: Any, config_file: Path
) -> None:
    suite = write_jsonl("suite.jsonl", SUITE)
    result = interlock("eval", suite, "--models", "big,gpt-9", "--config", config_file)
    assert result.exit_code == 2
    assert "unknown model 'gpt-9'; catalog models: big, small; aliases and routes: auto" in result.stderr
    assert "Starting a private gateway" not in result.output


def test_suite_errors_exit_1_naming_the_line(interlock: Any, write_jsonl: Any, tmp_path: Path) -> None:
    bad = [*SUITE[:2], {"id": "no-messages", "expected": "x", "scorer": "exact"}, SUITE[1]]
    suite = write_jsonl("bad.jsonl", bad)
    result = interlock("eval", suite, "--models", "anything", "--out", tmp_path / "r.jsonl")
    assert result.exit_code == 1
    assert f"{suite}:3: " in result.stderr and "messages" in result.stderr
    assert f"{suite}:4: " in result.stderr and "duplicate id 'ping'" in result.stderr
    assert not (tmp_path / "r.jsonl").exists()


def test_judge_items_without_a_judge_model_fail_before_any_call(interlock: Any, write_jsonl: Any) -> None:
    judged = {"id": "poem", "category": "general_chat", "scorer": "llm_judge",
              "messages": [{"role": "user", "content": "A haiku."}]}
    suite = write_jsonl("judged.jsonl", [judged])
    result = interlock("eval", suite, "--models", "smollm2-135m-instruct")
    assert result.exit_code == 1 and "needs a judge model" in result.stderr


def test_config_and_base_url_together_are_refused(
    interlock: Any, write_jsonl: Any, config_file: Path
) -> None:
    suite = write_jsonl("suite.jsonl", SUITE)
    result = interlock("eval", suite, "-m", "big", "-c", config_file, "--base-url", "http://127.0.0.1:9")
    assert result.exit_code == 2 and "give one" in result.output



def test_private_copy_turns_off_auth_ledger_and_shared_state_only() -> None:
    config = GatewayConfig.model_validate({
        "server": {"auth": True, "max_body_bytes": 1234},
        "accounting": {"ledger": True, "redis_url": "redis://127.0.0.1:6379/0", "default_output_tokens": 77},
        "deployments": [openai_deployment("big", "http://127.0.0.1:9")],
    })
    original = config_from_object(config, source="gateway.yaml")
    private = private_config(original)
    assert not private.config.server.auth and not private.config.accounting.ledger
    assert private.config.accounting.redis_url is None
    assert private.config.server.max_body_bytes == 1234
    assert private.config.accounting.default_output_tokens == 77
    assert private.config.deployments == original.config.deployments
    assert original.config.server.auth and original.config.accounting.ledger  # the original is untouched
    assert private.hash != original.hash and "private evaluation copy" in private.source


def test_in_process_models_are_the_embedded_ones() -> None:
    config = default_config({"OPENAI_API_KEY": "unused"}).config
    assert in_process_models(config, ["gpt-4o-mini", EMBEDDED_MODEL]) == [EMBEDDED_MODEL]
