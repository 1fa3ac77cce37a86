"""Preflight end to end: /readyz, /admin/deployments, the start-up lines, and a missing key on a request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from gateway_harness import openai_deployment, with_test_defaults
from servers import serve_in_thread

from interlock.api.app import build_app
from interlock.config.load import config_from_object
from interlock.config.schema import GatewayConfig
from interlock.gateway.runtime import Runtime

MISSING = "INTERLOCK_TEST_UNSET_KEY"
ADMIN = {"authorization": "Bearer admin-secret"}


def serve(config: dict[str, Any], said: list[str]) -> Iterator[str]:
    loaded = config_from_object(GatewayConfig.model_validate(with_test_defaults(config)), source="<test>")
    with serve_in_thread(build_app(Runtime(loaded), say=said.append)) as url:
        yield url


def chat(url: str, model: str) -> httpx.Response:
    return httpx.post(url + "/v1/chat/completions", timeout=10,
                      json={"model": model, "messages": [{"role": "user", "content": "alpha beta"}]})


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MISSING, raising=False)
    monkeypatch.setenv("INTERLOCK_ADMIN_KEY", "admin-secret")


def test_nothing_servable_is_a_503_naming_the_variable_and_requests_fail_fast(openai_upstream: Any) -> None:
    upstream, up = openai_upstream
    said: list[str] = []
    config = {"deployments": [openai_deployment("vendor", up, model="gpt", api_key_env=MISSING)],
              "resilience": {"breaker": {"consecutive_failures": 2}}}
    for url in serve(config, said):
        assert (f"deployment vendor: environment variable {MISSING} is not set; model gpt is unavailable"
                in said)
        assert any(line.startswith("NOT READY") for line in said)

        ready = httpx.get(url + "/readyz")
        assert ready.status_code == 503
        body = ready.json()
        assert body["status"] == "unservable" and body["unservable_routes"] == ["auto"]
        assert body["unavailable_models"] == {"gpt": [f"deployment vendor: environment variable {MISSING} is not set"]}

        before = len(upstream.received)
        for _ in range(5):  # more than the breaker's threshold: the cause must stay visible
            resp = chat(url, "gpt")
            assert resp.status_code == 502, resp.text
            error = resp.json()["error"]
            assert error["code"] == "upstream_key_missing" and MISSING in error["message"]
        assert len(upstream.received) == before  # nothing was sent without a key

        status = httpx.get(url + "/admin/deployments", headers=ADMIN).json()
        assert status["ready"] is False
        (vendor,) = status["deployments"]
        assert vendor["breaker"] == "closed"
        assert vendor["retries_spent"] == 0  # a retry cannot conjure a key
        assert vendor["health"]["errors"] == 0  # the operator's to fix, not the deployment's
        assert vendor["preflight"] == {"status": "missing_key", "variable": MISSING}


def test_a_replica_with_its_key_serves_and_the_gateway_is_ready(openai_upstream: Any) -> None:
    _, up = openai_upstream
    said: list[str] = []
    config = {"deployments": [openai_deployment("no-key", up, model="gpt", api_key_env=MISSING),
                              openai_deployment("keyed", up, model="gpt")]}
    for url in serve(config, said):
        assert not any(line.startswith("NOT READY") for line in said)
        ready = httpx.get(url + "/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        assert ready.json()["problems"] == [f"deployment no-key: environment variable {MISSING} is not set"]

        for _ in range(4):  # whichever replica is tried first, the request is served
            resp = chat(url, "gpt")
            assert resp.status_code == 200, resp.text
            assert resp.headers["x-interlock-deployment"] == "keyed"

        status = httpx.get(url + "/admin/deployments", headers=ADMIN).json()
        preflight = {d["health"]["deployment"]: d["preflight"] for d in status["deployments"]}
        assert preflight == {"no-key": {"status": "missing_key", "variable": MISSING}, "keyed": {"status": "ok"}}
        assert all(d["breaker"] == "closed" for d in status["deployments"])


def test_a_key_set_later_is_used_by_the_next_request(openai_upstream: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _, up = openai_upstream
    config = {"deployments": [openai_deployment("vendor", up, model="gpt", api_key_env=MISSING)]}
    for url in serve(config, []):
        assert chat(url, "gpt").status_code == 502
        monkeypatch.setenv(MISSING, "sk-test")
        assert chat(url, "gpt").status_code == 200  # no breaker was opened to wait out
