"""Prometheus metrics of the gateway, kept in a registry per app (so tests can run several apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from interlock.observability.record import RequestRecord

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        labels = ("model", "deployment")
        self.requests = Counter(
            "interlock_requests", "Requests served", (*labels, "endpoint", "status", "stream"), registry=self.registry
        )
        self.errors = Counter("interlock_errors", "Failed requests", (*labels, "code"), registry=self.registry)
        self.latency = Histogram(
            "interlock_request_latency_seconds", "Total request latency", labels,
            buckets=_LATENCY_BUCKETS, registry=self.registry,
        )
        self.ttft = Histogram(
            "interlock_time_to_first_token_seconds", "Time to the first streamed token", labels,
            buckets=_LATENCY_BUCKETS, registry=self.registry,
        )
        self.tokens = Counter("interlock_tokens", "Tokens processed", (*labels, "kind"), registry=self.registry)
        self.in_flight = Gauge("interlock_in_flight_requests", "Requests being served", registry=self.registry)

    def observe(self, rec: RequestRecord) -> None:
        model, dep = rec.model or rec.requested_model or "-", rec.deployment or "-"
        self.requests.labels(model, dep, rec.endpoint, str(rec.status), "true" if rec.stream else "false").inc()
        if rec.error_code is not None:
            self.errors.labels(model, dep, rec.error_code).inc()
        if rec.deployment:
            self.latency.labels(model, dep).observe(rec.latency_s)
            if rec.first_token_s is not None:
                self.ttft.labels(model, dep).observe(rec.first_token_s)
            if rec.usage.prompt_tokens:
                self.tokens.labels(model, dep, "prompt").inc(rec.usage.prompt_tokens)
            if rec.usage.completion_tokens:
                self.tokens.labels(model, dep, "completion").inc(rec.usage.completion_tokens)

    def render(self) -> bytes:
        return generate_latest(self.registry)
