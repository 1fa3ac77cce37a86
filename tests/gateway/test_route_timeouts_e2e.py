"""A route's own timeouts: laid over each deployment's, the tighter wins, never held against the deployment."""

from __future__ import annotations

import httpx
from gateway_harness import openai_deployment, running_gateway

SLOW = [{"role": "user", "content": "FAULT:slow please"}]  # the upstream waits 0.3 s before answering


def _config(url: str) -> dict:
    return {
        "deployments": [openai_deployment("m", url, perimeter="internal")],
        "routes": [
            {"name": "hasty", "candidates": ["m"], "timeouts": {"total": 0.1}},
            {"name": "patient", "candidates": ["m"]},
        ],
        "resilience": {"retry": {"max_attempts": 1}, "breaker": {"consecutive_failures": 2, "min_requests": 2}},
    }


def test_a_route_limit_times_out_without_opening_the_deployments_breaker(openai_upstream) -> None:
    _, url = openai_upstream
    with running_gateway(_config(url)) as (gateway, runtime):
        for _ in range(4):
            hasty = httpx.post(gateway + "/v1/chat/completions", json={"model": "hasty", "messages": SLOW}, timeout=30)
            assert hasty.status_code == 504, hasty.text
            assert hasty.json()["error"]["code"].startswith("timeout")
        patient = httpx.post(gateway + "/v1/chat/completions", json={"model": "patient", "messages": SLOW}, timeout=30)
        assert patient.status_code == 200, patient.text  # the deployment's own limit (300 s) still applies
        assert runtime.resilience.breaker("m").state.value == "closed"
