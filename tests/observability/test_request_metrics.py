"""``GatewayMetrics.observe``: each finished request counted in exactly the series it belongs to."""

from __future__ import annotations

from prometheus_client import generate_latest

from interlock.observability.metrics import GatewayMetrics
from interlock.observability.record import RequestRecord
from interlock.types import Usage


def finished(status: int = 200, *, deployment: str = "d", stream: bool = False,
             first_token_s: float | None = None, usage: Usage | None = None, error_code: str | None = None,
             **extra: str) -> RequestRecord:
    rec = RequestRecord(request_id="r", endpoint="/v1/chat/completions", model="m", deployment=deployment,
                        stream=stream, status=status, error_code=error_code, first_token_s=first_token_s,
                        latency_s=0.03, usage=usage or Usage(10, 4))
    rec.extra.update(extra)
    return rec


def series(metrics: GatewayMetrics, prefix: str) -> list[str]:
    text = generate_latest(metrics.registry).decode()
    return [line for line in text.splitlines() if line.startswith(prefix)]


def test_repeated_requests_add_up_in_their_own_series() -> None:
    metrics = GatewayMetrics()
    for rec in (finished(), finished(), finished(stream=True), finished(429, error_code="rate_limited")):
        metrics.observe(rec)
    value = metrics.registry.get_sample_value
    base = {"model": "m", "deployment": "d", "endpoint": "/v1/chat/completions"}
    assert value("interlock_requests_total", {**base, "status": "200", "stream": "false"}) == 2.0
    assert value("interlock_requests_total", {**base, "status": "200", "stream": "true"}) == 1.0
    assert value("interlock_requests_total", {**base, "status": "429", "stream": "false"}) == 1.0
    assert value("interlock_errors_total", {"model": "m", "deployment": "d", "code": "rate_limited"}) == 1.0
    assert value("interlock_request_latency_seconds_count", {"model": "m", "deployment": "d"}) == 4.0
    fast = {"model": "m", "deployment": "d", "le": "0.05"}
    assert value("interlock_request_latency_seconds_bucket", fast) == 4.0
    assert value("interlock_tokens_total", {"model": "m", "deployment": "d", "kind": "prompt"}) == 40.0
    assert value("interlock_tokens_total", {"model": "m", "deployment": "d", "kind": "completion"}) == 16.0


def test_series_nothing_was_counted_in_are_not_exported() -> None:
    metrics = GatewayMetrics()
    metrics.observe(finished(usage=Usage(10, 0)))
    assert series(metrics, "interlock_time_to_first_token_seconds_count") == []
    assert series(metrics, "interlock_errors_total") == []
    assert [line.split("kind=")[1][:8] for line in series(metrics, "interlock_tokens_total")] == ['"prompt"']
    metrics.observe(finished(stream=True, first_token_s=0.01, usage=Usage(10, 3)))
    value = metrics.registry.get_sample_value
    assert value("interlock_time_to_first_token_seconds_count", {"model": "m", "deployment": "d"}) == 1.0
    assert value("interlock_tokens_total", {"model": "m", "deployment": "d", "kind": "completion"}) == 3.0


def test_a_request_no_deployment_served_is_counted_under_dashes() -> None:
    metrics = GatewayMetrics()
    rec = finished(400, deployment="", error_code="invalid_request")
    rec.model = ""
    metrics.observe(rec)
    value = metrics.registry.get_sample_value
    labels = {"model": "-", "deployment": "-", "endpoint": "/v1/chat/completions", "status": "400",
              "stream": "false"}
    assert value("interlock_requests_total", labels) == 1.0
    assert value("interlock_errors_total", {"model": "-", "deployment": "-", "code": "invalid_request"}) == 1
    assert series(metrics, "interlock_request_latency_seconds_count") == []


def test_routing_decisions_are_counted_by_route_category_and_rule() -> None:
    metrics = GatewayMetrics()
    for _ in range(2):
        metrics.observe(finished(route="auto", category="coding", rule="policy"))
    metrics.observe(finished())
    labels = {"route": "auto", "category": "coding", "rule": "policy"}
    assert metrics.registry.get_sample_value("interlock_routing_decisions_total", labels) == 2.0
    assert len(series(metrics, "interlock_routing_decisions_total")) == 1
