"""Prometheus metrics of the gateway, kept in a registry per app (so tests can run several apps)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from interlock.observability.record import RequestRecord

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
"""Set (to a fresh directory) for the workers of ``serve --workers N``: metrics then add up across them."""


class Sample(Protocol):
    name: str
    help: str
    labels: dict[str, str]
    value: float


class _SampleCollector(Collector):
    """Exports gauges computed at scrape time (deployment health, breaker state)."""

    def __init__(self, source: Callable[[], Sequence[Sample]]) -> None:
        self.source = source

    def collect(self) -> Iterator[GaugeMetricFamily]:
        families: dict[str, GaugeMetricFamily] = {}
        for s in self.source():
            fam = families.get(s.name)
            if fam is None:
                fam = families[s.name] = GaugeMetricFamily(s.name, s.help, labels=list(s.labels))
            fam.add_metric(list(s.labels.values()), s.value)
        yield from families.values()


@dataclass(slots=True)
class _Series:
    """The children a served request of one kind of outcome updates, looked up together once."""

    requests: Any
    errors: Any
    latency: Any
    ttft: Any = None
    prompt_tokens: Any = None
    completion_tokens: Any = None


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
        # with several workers, the sum over the live ones (prometheus-client's multiprocess mode)
        self.in_flight = Gauge("interlock_in_flight_requests", "Requests being served", registry=self.registry,
                               multiprocess_mode="livesum")
        # rule: policy (a calibrated task route), uncovered (a task the policy has no data for), priors
        self.routing = Counter("interlock_routing_decisions", "Routed requests by task and deciding rule",
                               ("route", "category", "rule"), registry=self.registry)
        self._watched: dict[str, _SampleCollector] = {}
        # ``.labels()`` costs more than the update itself, so children are looked up once and kept.
        self._children: dict[tuple[Any, ...], Any] = {}
        self._outcomes: dict[tuple[Any, ...], _Series] = {}  # every series one kind of outcome updates

    def watch(self, name: str, source: Callable[[], Sequence[Any]]) -> None:
        """Export the gauges ``source`` returns (objects with name, help, labels, value) at each scrape.

        Watching the same ``name`` again replaces its source (a config reload's new runtime).
        """
        collector = self._watched.get(name)
        if collector is None:
            collector = self._watched[name] = _SampleCollector(source)
            self.registry.register(collector)
        collector.source = source

    def _child(self, metric: MetricWrapperBase, *labels: str) -> Any:
        key = (metric, *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def observe(self, rec: RequestRecord) -> None:
        # Only catalog names become label values: a client-sent name that resolved to nothing is "-",
        # so clients cannot grow the series without bound.
        rule = rec.extra.get("rule")
        if rule is not None:  # categories come from the classifier's fixed label set: bounded
            self._child(self.routing, rec.extra["route"], rec.extra["category"], rule).inc()
        model, dep = rec.model or "-", rec.deployment or "-"
        status, stream = str(rec.status), "true" if rec.stream else "false"
        if not rec.deployment:
            self.requests.labels(model, dep, rec.endpoint, status, stream).inc()
            if rec.error_code is not None:
                self.errors.labels(model, dep, rec.error_code).inc()
            return
        outcome = (model, dep, rec.endpoint, rec.status, rec.stream, rec.error_code)
        series = self._outcomes.get(outcome)
        if series is None:  # as many as (deployment, endpoint, status, error code) combinations: bounded
            series = self._outcomes[outcome] = _Series(
                self._child(self.requests, model, dep, rec.endpoint, status, stream),
                self._child(self.errors, model, dep, rec.error_code) if rec.error_code is not None else None,
                self._child(self.latency, model, dep))
        series.requests.inc()
        if series.errors is not None:
            series.errors.inc()
        series.latency.observe(rec.latency_s)
        # a series is exported once made: these are made when first there is something to count
        if rec.first_token_s is not None:
            if series.ttft is None:
                series.ttft = self._child(self.ttft, model, dep)
            series.ttft.observe(rec.first_token_s)
        usage = rec.usage
        if usage.prompt_tokens:
            if series.prompt_tokens is None:
                series.prompt_tokens = self._child(self.tokens, model, dep, "prompt")
            series.prompt_tokens.inc(usage.prompt_tokens)
        if usage.completion_tokens:
            if series.completion_tokens is None:
                series.completion_tokens = self._child(self.tokens, model, dep, "completion")
            series.completion_tokens.inc(usage.completion_tokens)

    def render(self) -> bytes:
        """The exposition text. With several workers (``PROMETHEUS_MULTIPROC_DIR`` set by ``serve
        --workers``), counters and histograms are summed over every worker's files; the gauges
        computed at scrape time (deployment health, breakers) are the scraped worker's own."""
        if not os.environ.get(MULTIPROC_ENV):
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        for collector in self._watched.values():
            registry.register(collector)
        return generate_latest(registry)
