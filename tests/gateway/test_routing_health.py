"""Routing skips unhealthy candidates: once a cheap model's breaker opens, the next adequate model is picked."""

from __future__ import annotations

import httpx
from gateway_harness import openai_deployment, running_gateway


def test_open_breaker_drops_a_candidate_from_routing(openai_upstream) -> None:
    _, up = openai_upstream
    config = {
        "deployments": [
            openai_deployment("cheap", "http://127.0.0.1:9", price={"input_per_mtok": 0.1, "output_per_mtok": 0.1},
                              timeouts={"connect": 0.2}),
            openai_deployment("dear", up, price={"input_per_mtok": 5.0, "output_per_mtok": 5.0}),
        ],
        "resilience": {"retry": {"max_attempts": 1}},
    }
    with running_gateway(config) as (url, _):
        body = {"model": "auto", "messages": [{"role": "user", "content": "Translate 'good morning' to German."}]}
        first = httpx.post(url + "/v1/chat/completions", json=body, timeout=30)
        assert first.status_code == 200 and first.headers["x-interlock-deployment"] == "dear"
        assert first.headers["x-interlock-fallback"].startswith("from=cheap")
        for _ in range(10):  # enough failures to open the cheap deployment's breaker
            httpx.post(url + "/v1/chat/completions", json=body, timeout=30)
        later = httpx.post(url + "/v1/chat/completions", json=body, timeout=30)
        assert later.status_code == 200
        assert "cheap" not in later.headers["x-interlock-attempts"]
        assert later.headers["x-interlock-model"] == "dear"
