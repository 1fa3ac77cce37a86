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


def test_routed_request_with_empty_or_malformed_content_is_a_clear_400(openai_upstream) -> None:
    _, up = openai_upstream
    with running_gateway({"deployments": [openai_deployment("only", up)]}) as (url, _):
        for messages in ([{"role": "user", "content": ""}], [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]):
            resp = httpx.post(url + "/v1/chat/completions", json={"model": "auto", "messages": messages}, timeout=30)
            assert resp.status_code == 400, resp.text
            err = resp.json()["error"]
            assert err["type"] == "invalid_request_error" and err["message"]
        ok = httpx.post(url + "/v1/chat/completions", timeout=30,
                        json={"model": "auto", "messages": [{"role": "user", "content": "still fine"}]})
        assert ok.status_code == 200
