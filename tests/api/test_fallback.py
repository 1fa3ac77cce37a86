"""Failover through the gateway: a failing replica is invisible to the client, and the headers say so."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest
from gateway_harness import openai_deployment, running_gateway


@pytest.fixture(scope="module")
def gateway(openai_upstream) -> Iterator[str]:
    _, up = openai_upstream
    config = {"deployments": [
        openai_deployment("broken", up, model="m", upstream_model="fault-500"),
        openai_deployment("healthy", up, model="m", upstream_model="echo"),
    ]}
    with running_gateway(config) as (url, _):
        yield url


@pytest.mark.parametrize("stream", [False, True])
def test_failing_replica_is_invisible_and_reported(gateway: str, stream: bool) -> None:
    client = openai.OpenAI(base_url=gateway + "/v1", api_key="x", max_retries=0)
    for _ in range(6):  # the balancer may try either replica first; every request must succeed
        raw = client.chat.completions.with_raw_response.create(
            model="m", messages=[{"role": "user", "content": "still answered"}], stream=stream)
        body = raw.parse()
        text = body.choices[0].message.content if not stream else "".join(
            c.choices[0].delta.content or "" for c in body if c.choices)
        assert text == "echo: still answered"
        assert raw.headers["x-interlock-deployment"] == "healthy"
        attempts = raw.headers["x-interlock-attempts"]
        if "broken" in attempts:
            assert raw.headers["x-interlock-fallback"].startswith("from=broken")


def test_admin_shows_health_and_metrics_export_it(gateway: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTERLOCK_ADMIN_KEY", "admin-secret")  # admin endpoints always want the admin key
    status = httpx.get(gateway + "/admin/deployments", headers={"authorization": "Bearer admin-secret"}).json()
    names = {d["health"]["deployment"] for d in status["deployments"]}
    assert names == {"broken", "healthy"}
    metrics = httpx.get(gateway + "/metrics").text
    assert 'interlock_breaker_state{deployment="broken"}' in metrics


def test_alias_fails_over_to_its_declared_fallback_model(openai_upstream) -> None:
    _, up = openai_upstream
    config = {
        "deployments": [
            openai_deployment("open-broken", up, model="open", upstream_model="fault-500", perimeter="internal"),
            openai_deployment("frontier-ok", up, model="frontier", upstream_model="echo"),
        ],
        "aliases": [{"name": "triage", "target": "open", "fallbacks": ["frontier"]}],
    }
    with running_gateway(config) as (url, _):
        raw = openai.OpenAI(base_url=url + "/v1", api_key="x", max_retries=0).chat.completions.with_raw_response.create(
            model="triage", messages=[{"role": "user", "content": "hello"}])
        assert raw.parse().choices[0].message.content == "echo: hello"
        assert raw.headers["x-interlock-deployment"] == "frontier-ok"
        assert raw.headers["x-interlock-fallback"].startswith("from=open-broken")
