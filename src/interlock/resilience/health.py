"""Per-deployment health: requests in flight (and how long the oldest has waited), latency (EWMA and
rolling p50/p95), error rate per kind of call.

``DeploymentHealth`` is fed by ``resilience.guard.GuardedProvider`` and read by
the balancer, hedging, the admin endpoint (``snapshot()``) and ``/metrics`` (``metric_samples``).
Failures the request caused (``blames_deployment``) count as requests but not as errors.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from interlock.resilience.clock import Clock
from interlock.resilience.failures import blames_deployment
from interlock.resilience.window import Ewma, SampleWindow, WindowCounter

_REQUEST_OF = {kind: f"request:{kind}" for kind in ("complete", "stream", "embed")}

class HealthSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    window_s: float = Field(60.0, gt=0, description="rolling window for percentiles and error rate")
    ewma_alpha: float = Field(0.2, gt=0, le=1)
    max_samples: int = Field(512, gt=0, description="latency samples kept per window")


@dataclass(frozen=True, slots=True)
class HealthSnapshot:
    """One deployment's health at a moment; latencies in seconds, None until observed."""

    deployment: str
    in_flight: int
    requests: int
    errors: int
    error_rate: float
    ttft_ewma_s: float | None
    ttft_p50_s: float | None
    ttft_p95_s: float | None
    latency_ewma_s: float | None
    latency_p50_s: float | None
    latency_p95_s: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class DeploymentHealth:
    """``started()`` returns a token that the matching ``succeeded``/``failed``/``abandoned`` passes
    back (without one, the oldest request in flight is taken); ``kind`` is the call's kind
    (``complete``, ``stream``, ``embed``), so a deployment that breaks its streams shows it even
    while its other calls succeed."""

    def __init__(self, deployment: str, clock: Clock, settings: HealthSettings | None = None) -> None:
        s = settings or HealthSettings()
        self.deployment = deployment
        self._clock = clock
        self._started: dict[int, float] = {}  # in start order: the first is the oldest
        self._tokens = itertools.count()
        self._counts = WindowCounter(clock, s.window_s)
        self._ttft = SampleWindow(clock, s.window_s, s.max_samples)
        self._latency = SampleWindow(clock, s.window_s, s.max_samples)
        self.ttft_ewma = Ewma(s.ewma_alpha)
        self.latency_ewma = Ewma(s.ewma_alpha)
        self.last_sample_at: float | None = None
        self._kinds: set[str] = set()

    @property
    def in_flight(self) -> int:
        return len(self._started)

    def started(self) -> int:
        token = next(self._tokens)
        self._started[token] = self._clock.now()
        return token

    def _finish(self, token: int | None) -> None:
        if token is None:
            token = next(iter(self._started), None)
        if token is not None:
            self._started.pop(token, None)

    def oldest_in_flight_s(self) -> float:
        """How long the oldest request still in flight has waited (0 with none): a hung or slowed
        deployment shows here at once, long before any of its answers lands in the averages."""
        first = next(iter(self._started.values()), None)
        return 0.0 if first is None else self._clock.now() - first

    def first_token(self, seconds: float) -> None:
        self._ttft.add(seconds)
        self.ttft_ewma.add(seconds)

    def succeeded(self, seconds: float, token: int | None = None, kind: str = "complete") -> None:
        self._finish(token)
        self._count(kind)
        self._latency.add(seconds)
        self.latency_ewma.add(seconds)
        self.last_sample_at = self._clock.now()

    def failed(self, exc: BaseException, token: int | None = None, kind: str = "complete") -> None:
        self._finish(token)
        self._count(kind, error=blames_deployment(exc))

    def abandoned(self, token: int | None = None) -> None:
        """The caller went away (or a hedge lost): no verdict on the deployment."""
        self._finish(token)

    def _count(self, kind: str, error: bool = False) -> None:
        self._kinds.add(kind)
        counts = self._counts
        counts.add("request")
        counts.add(_REQUEST_OF.get(kind) or f"request:{kind}")
        if error:
            counts.add("error")
            counts.add(f"error:{kind}")

    def error_rate(self, kind: str | None = None) -> float:
        suffix = f":{kind}" if kind else ""
        requests = self._counts.count("request" + suffix)
        return self._counts.count("error" + suffix) / requests if requests else 0.0

    def worst_error_rate(self, min_requests: int = 1) -> float:
        """The highest error rate of any kind of call with at least ``min_requests`` in the window."""
        rates = [self.error_rate(kind) for kind in self._kinds
                 if self._counts.count(f"request:{kind}") >= min_requests]
        return max(rates, default=0.0)

    def ttft_p95(self, min_samples: int = 1) -> float | None:
        return self._ttft.percentile(95) if len(self._ttft) >= min_samples else None

    def latency_p95(self, min_samples: int = 1) -> float | None:
        return self._latency.percentile(95) if len(self._latency) >= min_samples else None

    def expected_latency(self, default_s: float, concurrency: int = 1) -> float:
        """Queue depth times recent latency: what a request sent now should expect to wait.

        ``concurrency`` is how many requests the deployment serves at once (batching servers
        serve many); ``default_s`` stands in for latency until one has been observed.
        """
        recent = self.latency_ewma.value if self.latency_ewma.value is not None else default_s
        return math.ceil((self.in_flight + 1) / max(1, concurrency)) * recent

    def snapshot(self) -> HealthSnapshot:
        return HealthSnapshot(
            deployment=self.deployment,
            in_flight=self.in_flight,
            requests=self._counts.count("request"),
            errors=self._counts.count("error"),
            error_rate=self.error_rate(),
            ttft_ewma_s=self.ttft_ewma.value,
            ttft_p50_s=self._ttft.percentile(50),
            ttft_p95_s=self._ttft.percentile(95),
            latency_ewma_s=self.latency_ewma.value,
            latency_p50_s=self._latency.percentile(50),
            latency_p95_s=self._latency.percentile(95),
        )


@dataclass(frozen=True, slots=True)
class MetricSample:
    """One gauge value for Prometheus: ``name{labels} value``."""

    name: str
    help: str
    labels: dict[str, str]
    value: float


_GAUGES: tuple[tuple[str, str, str], ...] = (
    ("in_flight", "interlock_deployment_in_flight", "Requests in flight to the deployment"),
    ("requests", "interlock_deployment_window_requests", "Requests finished within the health window"),
    ("errors", "interlock_deployment_window_errors", "Failed requests within the health window"),
    ("error_rate", "interlock_deployment_error_rate", "Share of failed requests within the health window"),
    ("ttft_ewma_s", "interlock_deployment_ttft_ewma_seconds", "EWMA of time to first token"),
    ("ttft_p50_s", "interlock_deployment_ttft_p50_seconds", "Rolling p50 of time to first token"),
    ("ttft_p95_s", "interlock_deployment_ttft_p95_seconds", "Rolling p95 of time to first token"),
    ("latency_ewma_s", "interlock_deployment_latency_ewma_seconds", "EWMA of total latency"),
    ("latency_p50_s", "interlock_deployment_latency_p50_seconds", "Rolling p50 of total latency"),
    ("latency_p95_s", "interlock_deployment_latency_p95_seconds", "Rolling p95 of total latency"),
)


def metric_samples(snapshots: Iterable[HealthSnapshot]) -> list[MetricSample]:
    """Gauge samples for ``/metrics``, labelled by deployment; unobserved latencies are left out."""
    out: list[MetricSample] = []
    for snap in snapshots:
        for field_name, metric, help_text in _GAUGES:
            value = getattr(snap, field_name)
            if value is not None:
                out.append(MetricSample(metric, help_text, {"deployment": snap.deployment}, float(value)))
    return out
