"""Without API keys every caller is anonymous: requests naming no user draw the canary at random."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from gateway_harness import openai_deployment, running_gateway


@pytest.fixture(scope="module")
def gateway(openai_upstream) -> Iterator[str]:
    _, up = openai_upstream
    config = {
        "server": {"auth": False},
        "deployments": [
            openai_deployment("qwen-v1", up, model="qwen", version="v1", upstream_model="echo-v1"),
            openai_deployment("qwen-v2", up, model="qwen", version="v2", upstream_model="echo-v2"),
        ],
        "aliases": [{"name": "support", "sticky": "user", "targets": [
            {"model": "qwen@v1", "weight": 90}, {"model": "qwen@v2", "weight": 10}]}],
    }
    with running_gateway(config) as (url, _):
        yield url


def _served(client: httpx.Client, url: str, **extra: str) -> str:
    body = {"model": "support", "messages": [{"role": "user", "content": "hi"}], **extra}
    resp = client.post(url + "/v1/chat/completions", json=body)
    assert resp.status_code == 200, resp.text
    return resp.headers["x-interlock-deployment"]


def test_anonymous_requests_split_by_the_weights(gateway: str) -> None:
    with httpx.Client(timeout=10) as client:
        counts = Counter(_served(client, gateway) for _ in range(300))
    # 10% of 300 is 30 (sd 5.2): 0 or 300 would mean every anonymous caller shares one sticky key
    assert 10 <= counts["qwen-v2"] <= 55, counts


def test_a_named_user_still_sticks_to_one_target(gateway: str) -> None:
    with httpx.Client(timeout=10) as client:
        assert len({_served(client, gateway, user="alice") for _ in range(20)}) == 1
