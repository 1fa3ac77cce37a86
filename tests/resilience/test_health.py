from __future__ import annotations

import pytest

from interlock.errors import UpstreamHTTPError
from interlock.resilience.clock import ManualClock
from interlock.resilience.health import DeploymentHealth, HealthSettings, metric_samples
from resilience.fakes import Behaviour, FakeProvider, collect, guarded, request


def test_percentiles_ewma_and_error_rate_over_the_window() -> None:
    clock = ManualClock()
    health = DeploymentHealth("a", clock, HealthSettings(window_s=60, ewma_alpha=0.5))
    for ms in range(1, 101):
        health.started()
        health.first_token(ms / 1000)
        health.succeeded(ms / 100)
    health.started()
    health.failed(UpstreamHTTPError("boom", upstream_status=503))
    snap = health.snapshot()
    assert snap.ttft_p50_s == pytest.approx(0.050)
    assert snap.ttft_p95_s == pytest.approx(0.095)
    assert snap.latency_p95_s == pytest.approx(0.95)
    assert snap.requests == 101 and snap.errors == 1
    assert snap.error_rate == pytest.approx(1 / 101)
    assert snap.in_flight == 0
    assert snap.latency_ewma_s is not None and 0.9 < snap.latency_ewma_s <= 1.0


def test_samples_and_errors_age_out_of_the_window() -> None:
    clock = ManualClock()
    health = DeploymentHealth("a", clock, HealthSettings(window_s=10))
    health.started()
    health.failed(TimeoutError())
    clock.advance(11)
    assert health.error_rate() == 0.0
    assert health.snapshot().latency_p95_s is None


def test_client_errors_are_requests_but_not_errors() -> None:
    health = DeploymentHealth("a", ManualClock())
    health.started()
    health.failed(UpstreamHTTPError("bad", upstream_status=400))
    assert health.snapshot().requests == 1
    assert health.error_rate() == 0.0


def test_expected_latency_is_queue_depth_times_recent_latency() -> None:
    health = DeploymentHealth("a", ManualClock())
    assert health.expected_latency(default_s=0.5) == 0.5
    health.started()
    health.succeeded(0.2)
    for _ in range(3):
        health.started()
    assert health.expected_latency(default_s=0.5) == pytest.approx(4 * 0.2)
    assert health.expected_latency(default_s=0.5, concurrency=4) == pytest.approx(0.2)


async def test_measured_provider_tracks_in_flight_ttft_and_failures() -> None:
    clock = ManualClock(auto_advance=True)
    inner = FakeProvider(
        "a",
        [Behaviour(delay=0.25), Behaviour(error=UpstreamHTTPError("x", upstream_status=500))],
        clock=clock,
    )
    measured = guarded(inner, clock)
    health = measured.health
    await collect(measured.stream(request()))
    with pytest.raises(UpstreamHTTPError):
        await measured.complete(request())
    snap = health.snapshot()
    assert snap.ttft_p95_s == pytest.approx(0.25)
    assert snap.in_flight == 0
    assert (snap.requests, snap.errors) == (2, 1)


async def test_a_stream_the_caller_abandons_is_no_verdict() -> None:
    clock = ManualClock()
    provider = guarded(FakeProvider("a", clock=clock), clock)
    health = provider.health
    stream = provider.stream(request())
    await anext(stream)
    assert health.in_flight == 1
    await stream.aclose()
    assert health.in_flight == 0 and health.snapshot().requests == 0


def test_metric_samples_name_every_gauge_per_deployment() -> None:
    health = DeploymentHealth("vllm-a", ManualClock())
    health.started()
    health.first_token(0.1)
    health.succeeded(0.3)
    samples = {s.name: s for s in metric_samples([health.snapshot()])}
    assert samples["interlock_deployment_ttft_p95_seconds"].value == pytest.approx(0.1)
    assert samples["interlock_deployment_latency_ewma_seconds"].value == pytest.approx(0.3)
    assert samples["interlock_deployment_in_flight"].labels == {"deployment": "vllm-a"}
