"""Gateway-wide ``resilience.timeouts`` apply to every deployment that does not set its own."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from gateway_harness import openai_deployment, running_gateway


@pytest.fixture(scope="module")
def gateway(openai_upstream) -> Iterator[str]:
    _, up = openai_upstream  # ``fault-slow`` answers after 0.3 s
    config = {
        "resilience": {"timeouts": {"first_token": 0.05}},
        "deployments": [
            openai_deployment("gateway-limit", up, upstream_model="fault-slow"),
            openai_deployment("own-limit", up, upstream_model="fault-slow", timeouts={"first_token": 5}),
        ],
    }
    with running_gateway(config) as (url, _):
        yield url


def _stream(url: str, model: str) -> httpx.Response:
    body = {"model": model, "messages": [{"role": "user", "content": "hello"}], "stream": True}
    return httpx.post(url + "/v1/chat/completions", json=body, timeout=10)


def test_the_gateway_wide_first_token_limit_applies(gateway: str) -> None:
    resp = _stream(gateway, "gateway-limit")
    assert resp.status_code == 504, resp.text
    assert resp.json()["error"]["code"] == "timeout_first_token"


def test_a_deployments_own_limit_wins(gateway: str) -> None:
    resp = _stream(gateway, "own-limit")
    assert resp.status_code == 200 and "data: [DONE]" in resp.text
