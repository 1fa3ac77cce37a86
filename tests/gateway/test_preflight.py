"""Preflight against real loopback sockets: keys, reachability, embedded weights, routes, the cache."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from gateway_harness import openai_deployment

from interlock.config.schema import GatewayConfig
from interlock.gateway.preflight import (
    Preflight,
    PreflightStatus,
    connect_problem,
    run_preflight,
    start_up_lines,
    unservable_names,
)
from interlock.resilience.clock import ManualClock

KEY = "INTERLOCK_TEST_PREFLIGHT_KEY"


def closed_port_url() -> str:
    """A loopback URL nothing listens on (the port was bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def embedded(name: str = "local", model: str = "tiny") -> dict[str, Any]:
    return {"name": name, "type": "llamacpp", "model": model, "vendor": "test", "perimeter": "internal",
            "context_window": 2048, "gguf_path": "/nonexistent/tiny.gguf",
            "price": {"type": "per_token", "input_per_mtok": 0.0, "output_per_mtok": 0.0}}


def config(*deployments: dict[str, Any], **extra: Any) -> GatewayConfig:
    return GatewayConfig.model_validate({"deployments": list(deployments), **extra})


async def test_each_deployment_gets_its_own_verdict(openai_upstream: Any) -> None:
    _, up = openai_upstream
    down = closed_port_url()
    cfg = config(
        openai_deployment("keyed", up, model="gpt", api_key_env=KEY),
        openai_deployment("open", up, model="gpt"),
        openai_deployment("down", down, model="other"),
        embedded("loaded-here", "tiny"),
        embedded("cold", "cold-model"),
    )
    report = await run_preflight(cfg, {"loaded-here"}, environ={}, timeout_s=1.0)
    status = {c.deployment: c for c in report.checks}
    assert status["keyed"].status is PreflightStatus.MISSING_KEY and status["keyed"].detail == KEY
    assert status["keyed"].to_dict() == {"status": "missing_key", "variable": KEY}
    assert status["open"].ok
    assert status["down"].status is PreflightStatus.UNREACHABLE
    assert "127.0.0.1" in status["down"].detail
    assert status["loaded-here"].ok
    assert status["cold"].status is PreflightStatus.NOT_LOADED
    assert report.ready
    # gpt still has a passing deployment; the others have none
    assert set(report.unavailable_models()) == {"other", "cold-model"}


async def test_a_key_that_is_set_but_empty_counts_as_missing(openai_upstream: Any) -> None:
    _, up = openai_upstream
    cfg = config(openai_deployment("keyed", up, api_key_env=KEY))
    report = await run_preflight(cfg, set(), environ={KEY: ""})
    assert report.checks[0].status is PreflightStatus.MISSING_KEY
    assert not report.ready
    assert report.to_dict()["unservable_routes"] == ["auto"]


async def test_routes_are_servable_only_through_their_own_candidates(openai_upstream: Any) -> None:
    _, up = openai_upstream
    cfg = config(
        openai_deployment("vendor", up, model="vendor-model", api_key_env=KEY),
        openai_deployment("house", up, model="house-model", perimeter="internal"),
        routes=[
            {"name": "vendor-only", "candidates": ["vendor-model"]},
            {"name": "no-self-hosted", "allow_self_hosted": False},
            {"name": "house-only", "candidates": ["house-model"]},
        ],
    )
    report = await run_preflight(cfg, set(), environ={})
    assert dict(report.routes) == {"auto": True, "vendor-only": False, "no-self-hosted": False, "house-only": True}
    assert report.ready
    assert unservable_names(cfg, report, ["vendor-model", "house-model", "vendor-only", "auto"]) == {
        "vendor-model": [f"deployment vendor: environment variable {KEY} is not set"],
        "vendor-only": [f"deployment vendor: environment variable {KEY} is not set"],
    }


async def test_an_alias_is_servable_when_a_fallback_is(openai_upstream: Any) -> None:
    _, up = openai_upstream
    cfg = config(
        openai_deployment("vendor", up, model="vendor-model", api_key_env=KEY),
        openai_deployment("house", up, model="house-model"),
        aliases=[{"name": "chat", "target": "vendor-model", "fallbacks": ["house-model"]},
                 {"name": "vendor-alias", "target": "vendor-model"}],
    )
    report = await run_preflight(cfg, set(), environ={})
    assert list(unservable_names(cfg, report, ["chat", "vendor-alias"])) == ["vendor-alias"]


async def test_nothing_servable_is_said_at_start_naming_the_variable(openai_upstream: Any) -> None:
    _, up = openai_upstream
    cfg = config(openai_deployment("openai-gpt", up, model="gpt", api_key_env="OPENAI_API_KEY"))
    lines = start_up_lines(await run_preflight(cfg, set(), environ={}))
    assert lines[0] == ("deployment openai-gpt: environment variable OPENAI_API_KEY is not set; "
                        "model gpt is unavailable")
    assert lines[-1].startswith("NOT READY: no route has a deployment that passes preflight")


async def test_a_replica_with_a_key_keeps_the_model_available(openai_upstream: Any) -> None:
    _, up = openai_upstream
    cfg = config(openai_deployment("a", up, model="gpt", api_key_env=KEY), openai_deployment("b", up, model="gpt"))
    lines = start_up_lines(await run_preflight(cfg, set(), environ={}))
    assert lines == [f"deployment a: environment variable {KEY} is not set; model gpt is served by its other "
                     "deployments"]


async def test_results_are_cached_for_the_ttl_then_checked_again(openai_upstream: Any) -> None:
    _, up = openai_upstream
    env: dict[str, str] = {}
    clock = ManualClock()
    preflight = Preflight(config(openai_deployment("keyed", up, api_key_env=KEY)), set, clock=clock,
                          ttl_s=5.0, environ=env)
    assert not (await preflight.report()).ready
    env[KEY] = "sk-now-set"
    clock.advance(4.9)
    assert not (await preflight.report()).ready  # cached: probes stay cheap
    clock.advance(0.2)
    assert (await preflight.report()).ready


@pytest.mark.parametrize("url", ["http://", "http://127.0.0.1:99999"])
async def test_a_url_without_a_usable_host_or_port_is_a_reason_not_a_crash(url: str) -> None:
    problem = await connect_problem(url, 0.5)
    assert problem is not None and url in problem


async def test_a_host_that_cannot_be_resolved_is_unreachable() -> None:
    # the test-wide network guard refuses the name, as a resolver without the name would
    problem = await connect_problem("https://api.openai.example/v1", 0.5)
    assert problem is not None and problem.startswith("cannot connect to api.openai.example:443")
