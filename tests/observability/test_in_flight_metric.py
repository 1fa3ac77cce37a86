"""``interlock_in_flight_requests`` (the gauge the HPA and the dashboard read) counts requests being served."""

from __future__ import annotations

import threading
import time

import httpx
from gateway_harness import openai_deployment, running_gateway

SLOW = [{"role": "user", "content": "FAULT:slow please"}]  # the upstream waits 0.3 s before answering


def _in_flight(url: str) -> float:
    for line in httpx.get(url + "/metrics", timeout=5).text.splitlines():
        if line.startswith("interlock_in_flight_requests "):
            return float(line.split()[1])
    raise AssertionError("interlock_in_flight_requests is not exported")


def test_the_in_flight_gauge_rises_during_a_request_and_falls_after(openai_upstream) -> None:
    upstream, url = openai_upstream
    upstream.slow_seconds = 1.0
    config = {"deployments": [openai_deployment("m", url, perimeter="internal")]}
    try:
        with running_gateway(config) as (gateway, _runtime):
            assert _in_flight(gateway) == 0.0
            answers: list[int] = []
            calls = [threading.Thread(target=lambda: answers.append(httpx.post(
                gateway + "/v1/chat/completions", json={"model": "m", "messages": SLOW}, timeout=30).status_code))
                for _ in range(2)]
            for call in calls:
                call.start()
            deadline, peak = time.monotonic() + 5, 0.0
            while peak < 2 and time.monotonic() < deadline:
                peak = max(peak, _in_flight(gateway))
                time.sleep(0.02)
            for call in calls:
                call.join(30)
            assert answers == [200, 200]
            assert peak == 2.0
            assert _in_flight(gateway) == 0.0
    finally:
        upstream.slow_seconds = 0.3
