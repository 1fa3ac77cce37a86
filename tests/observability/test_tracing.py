"""Traces of a real gateway: one request span with the GenAI attributes, one child per upstream attempt."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from gateway_harness import openai_deployment, with_test_defaults
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import ValidationError
from servers import serve_in_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from interlock.api.app import build_app
from interlock.config.load import config_from_object
from interlock.config.schema import GatewayConfig
from interlock.gateway.runtime import Runtime
from interlock.observability.settings import ObservabilitySettings
from interlock.observability.tracing import (
    RequestTracer,
    carry_trace_sink,
    start_trace_sink,
    traces_endpoint,
)

MARKER = "zebra-7781-quartz"  # a prompt word that must never reach a span unless allowed
DEAD = "http://127.0.0.1:9"  # nothing listens: the first choice fails, the chain falls back


@pytest.fixture(autouse=True)
def _no_ambient_otel(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED"):
        monkeypatch.delenv(name, raising=False)


def _fallback_config(up: str, **server: Any) -> dict[str, Any]:
    return {
        "server": server,
        "deployments": [
            openai_deployment("cheap", DEAD, price={"input_per_mtok": 0.1, "output_per_mtok": 0.1},
                              timeouts={"connect": 0.2}),
            openai_deployment("dear", up, price={"input_per_mtok": 5.0, "output_per_mtok": 5.0}),
        ],
        "resilience": {"retry": {"max_attempts": 1}},
    }


@contextmanager
def traced_gateway(config: dict[str, Any]) -> Iterator[tuple[str, InMemorySpanExporter, Runtime]]:
    loaded = config_from_object(GatewayConfig.model_validate(with_test_defaults(config)), source="<test>")
    runtime = Runtime(loaded)
    assert runtime.tracer is None  # off by default
    exporter = InMemorySpanExporter()
    sink = start_trace_sink(loaded.config.observability, environ={}, exporter=exporter)
    assert sink is not None
    sink.holders += 1
    runtime.traces, runtime.tracer = sink, RequestTracer(sink, loaded.config)
    with serve_in_thread(build_app(runtime)) as url:
        yield url, exporter, runtime


def _finished(exporter: InMemorySpanExporter, runtime: Runtime) -> list[ReadableSpan]:
    assert runtime.traces is not None
    runtime.traces.provider.force_flush()
    return list(exporter.get_finished_spans())


def _all_attribute_text(spans: list[ReadableSpan]) -> str:
    attributes = [{k: v if isinstance(v, (str, int, float, bool)) else list(v)
                   for k, v in (s.attributes or {}).items()} for s in spans]
    return json.dumps(attributes) + " ".join(s.name for s in spans)


def _chat(url: str, content: str, **extra: Any) -> httpx.Response:
    body = {"model": "auto", "messages": [{"role": "user", "content": content}], **extra}
    return httpx.post(url + "/v1/chat/completions", json=body, timeout=30)


def test_routed_request_with_fallback_has_a_request_span_and_one_child_per_attempt(openai_upstream) -> None:
    _, up = openai_upstream
    with traced_gateway(_fallback_config(up)) as (url, exporter, runtime):
        resp = _chat(url, f"Translate 'good morning {MARKER}' to German.")
        assert resp.status_code == 200, resp.text
        assert resp.headers["x-interlock-fallback"].startswith("from=cheap")
        spans = _finished(exporter, runtime)
    requests = [s for s in spans if s.parent is None]
    assert len(requests) == 1
    request = requests[0]
    attrs = dict(request.attributes or {})
    assert request.name == "chat auto"
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.request.model"] == "auto"
    assert attrs["gen_ai.response.model"] == "dear"
    assert attrs["gen_ai.provider.name"] == "openai"
    assert attrs["gen_ai.usage.input_tokens"] > 0 and attrs["gen_ai.usage.output_tokens"] > 0
    assert attrs["http.response.status_code"] == 200
    assert attrs["interlock.deployment"] == "dear" and attrs["interlock.attempts"] == 2
    assert attrs["interlock.route"] == "auto" and attrs["interlock.task.category"]
    assert attrs["interlock.routing.rule"] and attrs["interlock.fallback.from"] == "cheap"
    assert attrs["interlock.config_hash"] == runtime.config_hash

    children = sorted((s for s in spans if s.parent is not None), key=lambda s: s.start_time or 0)
    assert [c.parent.span_id for c in children] == [request.context.span_id] * 2
    assert [c.context.trace_id for c in children] == [request.context.trace_id] * 2
    first, second = (dict(c.attributes or {}) for c in children)
    assert first["interlock.deployment"] == "cheap" and first["interlock.attempt.number"] == 1
    assert first["interlock.attempt.outcome"] != "ok" and first["error.type"]
    assert first["interlock.attempt.fallback"] is False
    assert second["interlock.deployment"] == "dear" and second["interlock.attempt.outcome"] == "ok"
    assert second["interlock.attempt.fallback"] is True and second["gen_ai.request.model"] == "dear"
    for child in children:  # children sit inside their request in time
        assert request.start_time <= child.start_time <= child.end_time <= request.end_time
    assert MARKER not in _all_attribute_text(spans)


def test_a_refused_request_is_an_error_span(openai_upstream) -> None:
    _, up = openai_upstream
    with traced_gateway({"deployments": [openai_deployment("only", up)]}) as (url, exporter, runtime):
        resp = httpx.post(url + "/v1/chat/completions", timeout=30,
                          json={"model": "no-such-model", "messages": [{"role": "user", "content": "hi"}]})
        assert resp.status_code == 404, resp.text
        spans = _finished(exporter, runtime)
    (span,) = spans
    assert span.status.status_code.name == "ERROR"
    assert span.attributes["http.response.status_code"] == 404 and span.attributes["error.type"]


def test_streamed_request_is_traced_with_time_to_first_token(openai_upstream) -> None:
    _, up = openai_upstream
    with traced_gateway({"deployments": [openai_deployment("only", up)]}) as (url, exporter, runtime):
        with httpx.stream("POST", url + "/v1/chat/completions", timeout=30, json={
                "model": "only", "stream": True, "messages": [{"role": "user", "content": MARKER}]}) as resp:
            assert resp.status_code == 200
            resp.read()
        spans = _finished(exporter, runtime)
    request = next(s for s in spans if s.parent is None)
    assert request.attributes["interlock.stream"] is True
    assert request.attributes["interlock.time_to_first_token_s"] >= 0
    assert len([s for s in spans if s.parent is not None]) == 1
    assert MARKER not in _all_attribute_text(spans)


def test_prompt_and_completion_join_spans_only_when_log_prompts_allows(openai_upstream) -> None:
    _, up = openai_upstream
    with traced_gateway(_fallback_config(up, log_prompts=True)) as (url, exporter, runtime):
        assert _chat(url, f"Say {MARKER}").status_code == 200
        spans = _finished(exporter, runtime)
    request = next(s for s in spans if s.parent is None)
    messages = json.loads(request.attributes["gen_ai.input.messages"])
    assert MARKER in messages[0]["parts"][0]["content"]
    assert "gen_ai.output.messages" in request.attributes
    assert all(MARKER not in _all_attribute_text([s]) for s in spans if s.parent is not None)


def test_traces_are_off_unless_configured() -> None:
    off = ObservabilitySettings()
    assert traces_endpoint(off, {}) is None
    assert start_trace_sink(off, environ={}) is None
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318/"}
    assert traces_endpoint(off, env) == "http://127.0.0.1:4318/v1/traces"
    assert traces_endpoint(off, {**env, "OTEL_SDK_DISABLED": "true"}) is None
    on = ObservabilitySettings(otlp_endpoint="http://collector:4318")
    # the config wins over the environment
    assert traces_endpoint(on, env) == "http://collector:4318/v1/traces"


def test_observability_settings_are_strict() -> None:
    with pytest.raises(ValidationError, match="otlp_endpoint"):
        ObservabilitySettings(otlp_endpoint="collector:4318")
    with pytest.raises(ValidationError, match="sampling"):
        ObservabilitySettings.model_validate({"sampling": 0.5})


class _Collector:
    """A loopback OTLP/HTTP receiver: keeps every exported span."""

    def __init__(self) -> None:
        self.spans: list[Any] = []
        self.app = Starlette(routes=[Route("/v1/traces", self.receive, methods=["POST"])])

    async def receive(self, request: Request) -> Response:
        export = ExportTraceServiceRequest.FromString(await request.body())
        for resource_spans in export.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                self.spans.extend(scope_spans.spans)
        return Response(b"", media_type="application/x-protobuf")


def test_configured_endpoint_exports_over_otlp_http(openai_upstream) -> None:
    _, up = openai_upstream
    collector = _Collector()
    with serve_in_thread(collector.app) as collector_url:
        config = {"deployments": [openai_deployment("only", up)],
                  "observability": {"otlp_endpoint": collector_url}}
        loaded = config_from_object(GatewayConfig.model_validate(with_test_defaults(config)), source="<test>")
        runtime = Runtime(loaded)
        assert runtime.tracer is not None
        with serve_in_thread(build_app(runtime)) as url:
            resp = httpx.post(url + "/v1/chat/completions", timeout=30,
                              json={"model": "only", "messages": [{"role": "user", "content": "hi"}]})
            assert resp.status_code == 200
        # closing the app closes the runtime, which flushes the batch to the collector
        assert sorted(s.name for s in collector.spans) == ["chat only", "chat only"]


def test_a_reload_keeps_the_sink_while_its_settings_hold() -> None:
    settings = ObservabilitySettings(otlp_endpoint="http://127.0.0.1:4318")
    first = carry_trace_sink(settings, None)
    assert first is not None and first.endpoint == "http://127.0.0.1:4318/v1/traces"
    assert carry_trace_sink(settings, first) is first and first.holders == 2
    changed = carry_trace_sink(ObservabilitySettings(otlp_endpoint="http://127.0.0.1:4319"), first)
    assert changed is not None and changed is not first
    assert carry_trace_sink(ObservabilitySettings(), changed) is None  # traces turned off by a reload
    for sink in (first, first, changed):
        sink.release()  # nothing was exported, so shutting down sends nothing
