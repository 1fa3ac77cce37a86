"""OpenTelemetry traces of finished requests, following the GenAI semantic conventions.

Spans are built in one place from the finished ``RequestRecord`` and its chain's attempts, so the
serving path carries no span objects. Off unless ``observability.otlp_endpoint`` or the standard
``OTEL_EXPORTER_OTLP_ENDPOINT`` is set: then the runtime holds no tracer and a request costs one
``None`` check. Prompt and completion text join a span only when ``server.log_prompts`` allows it.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from interlock.observability.record import RequestRecord
from interlock.observability.settings import ObservabilitySettings
from interlock.providers.types import system_name

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

    from interlock.config.schema import GatewayConfig
    from interlock.resilience.attempts import Attempt, AttemptReport

log = logging.getLogger("interlock.tracing")

# rec.extra keys with a conventional attribute name; other identifiers go under interlock.<key>
_EXTRA_ATTRIBUTES = {
    "route": "interlock.route",
    "category": "interlock.task.category",
    "rule": "interlock.routing.rule",
    "decision": "interlock.routing.decision",
    "policy": "interlock.routing.policy_version",
    "picked": "interlock.routing.picked",
    "data_classes": "interlock.compliance.data_classes",
}

AttributeValue = str | bool | int | float | list[str] | list[int] | list[float]


def traces_endpoint(settings: ObservabilitySettings, environ: Mapping[str, str]) -> str | None:
    """The OTLP/HTTP traces URL, or None when traces are off (the default)."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    if settings.otlp_endpoint:
        return _with_traces_path(settings.otlp_endpoint)
    if environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        return environ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]  # a full URL, as the SDK reads it
    if environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return _with_traces_path(environ["OTEL_EXPORTER_OTLP_ENDPOINT"])
    return None


def _with_traces_path(base: str) -> str:
    base = base.rstrip("/")
    return base if base.endswith("/v1/traces") else f"{base}/v1/traces"


class TraceSink:
    """One SDK tracer provider and its exporter; carried across config reloads while its settings hold."""

    def __init__(
        self, provider: TracerProvider, settings: ObservabilitySettings, endpoint: str | None = None
    ) -> None:
        self.provider = provider
        self.settings = settings
        self.endpoint = endpoint
        self.tracer = provider.get_tracer("interlock")
        self.holders = 0  # runtimes using it; the last to close shuts the exporter down

    def release(self) -> None:
        self.holders -= 1
        if self.holders <= 0:
            self.provider.shutdown()  # flushes queued spans


def start_trace_sink(
    settings: ObservabilitySettings,
    environ: Mapping[str, str] | None = None,
    exporter: SpanExporter | None = None,
) -> TraceSink | None:
    """A sink exporting over OTLP/HTTP in batches, or None when traces are off. The SDK is imported
    only here, so a gateway without traces never loads it."""
    endpoint = traces_endpoint(settings, os.environ if environ is None else environ)
    if endpoint is None and exporter is None:
        return None
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=endpoint)
    provider = TracerProvider(resource=Resource.create({"service.name": settings.service_name}))
    provider.add_span_processor(BatchSpanProcessor(exporter))  # exports off the event loop
    return TraceSink(provider, settings, endpoint)


def carry_trace_sink(settings: ObservabilitySettings, previous: TraceSink | None) -> TraceSink | None:
    """The sink for a (re)loaded config: the previous one when its settings are unchanged."""
    sink = previous if previous is not None and previous.settings == settings else start_trace_sink(settings)
    if sink is not None:
        sink.holders += 1
    return sink


class RequestTracer:
    """Turns finished requests into a request span with one child span per upstream attempt."""

    def __init__(self, sink: TraceSink, config: GatewayConfig) -> None:
        self.tracer = sink.tracer
        self.include_text = config.server.log_prompts
        self.deployments = {
            d.name: (d.model, system_name(d.type)) for d in config.deployments
        }

    def emit(self, rec: RequestRecord) -> None:
        try:
            self._emit(rec)
        except Exception:  # a tracing fault must never fail the request it describes
            log.exception("building the trace of request %s failed", rec.request_id)

    def _emit(self, rec: RequestRecord) -> None:
        end_ns = time.time_ns()
        operation = "embeddings" if rec.endpoint == "embeddings" else "chat"
        span = self.tracer.start_span(
            f"{operation} {rec.requested_model or rec.model}".strip(), kind=SpanKind.SERVER,
            start_time=end_ns - int(rec.latency_s * 1e9), attributes=self._request_attributes(rec, operation),
        )
        if rec.status >= 400:
            span.set_status(Status(StatusCode.ERROR, rec.error_code or str(rec.status)))
        report: AttemptReport | None = rec.report
        if report is not None:
            context = trace.set_span_in_context(span)
            for number, attempt in enumerate(report.attempts, 1):
                self._attempt_span(attempt, number, report, operation, context)
        span.end(end_time=end_ns)

    def _request_attributes(self, rec: RequestRecord, operation: str) -> dict[str, AttributeValue]:
        attrs: dict[str, AttributeValue] = {
            "gen_ai.operation.name": operation,
            "gen_ai.request.model": rec.requested_model,
            "http.response.status_code": rec.status,
            "interlock.request_id": rec.request_id,
            "interlock.endpoint": rec.endpoint,
            "interlock.stream": rec.stream,
            "interlock.attempts": rec.attempts,
            "interlock.config_hash": rec.config_hash,
        }
        if rec.model:
            attrs["gen_ai.response.model"] = rec.model
        if rec.deployment:
            attrs["interlock.deployment"] = rec.deployment
            provider = self.deployments.get(rec.deployment, ("", ""))[1]
            if provider:
                attrs["gen_ai.provider.name"] = attrs["gen_ai.system"] = provider
        if rec.usage.prompt_tokens or rec.usage.completion_tokens:
            attrs["gen_ai.usage.input_tokens"] = rec.usage.prompt_tokens
            attrs["gen_ai.usage.output_tokens"] = rec.usage.completion_tokens
        if rec.error_code:
            attrs["error.type"] = rec.error_code
        if rec.key_id:
            attrs["interlock.key_id"] = rec.key_id  # the key's id, never the key
        if rec.team:
            attrs["interlock.team"] = rec.team
        if rec.cost_usd is not None:
            attrs["interlock.cost_usd"] = float(rec.cost_usd)
        if rec.first_token_s is not None:
            attrs["interlock.time_to_first_token_s"] = rec.first_token_s
        for key, value in rec.extra.items():
            converted = _attribute_value(value)
            if converted is not None:
                attrs[_EXTRA_ATTRIBUTES.get(key, f"interlock.{key}")] = converted
        attrs.update(_compliance_attributes(rec))
        report: AttemptReport | None = rec.report
        if report is not None and report.fell_back:
            attrs["interlock.fallback.from"] = report.first_choice or ""
            attrs["interlock.fallback.reason"] = report.fallback_reason() or ""
        if self.include_text:
            if rec.prompt_text is not None:
                attrs["gen_ai.input.messages"] = _text_message("user", rec.prompt_text)
            if rec.completion_text is not None:
                attrs["gen_ai.output.messages"] = _text_message("assistant", rec.completion_text)
        return attrs

    def _attempt_span(
        self, attempt: Attempt, number: int, report: AttemptReport, operation: str, context: Any
    ) -> None:
        model, provider = self.deployments.get(attempt.deployment, (attempt.deployment, ""))
        attrs: dict[str, AttributeValue] = {
            "gen_ai.operation.name": operation,
            "gen_ai.request.model": model,
            "interlock.deployment": attempt.deployment,
            "interlock.attempt.number": number,
            "interlock.attempt.try": attempt.try_number,
            "interlock.attempt.outcome": attempt.outcome.value,
            "interlock.attempt.retry": attempt.try_number > 1,
            "interlock.attempt.fallback": attempt.deployment != report.first_choice,
            "interlock.attempt.hedge": attempt.hedge,
        }
        if provider:
            attrs["gen_ai.provider.name"] = attrs["gen_ai.system"] = provider
        if attempt.upstream_status is not None:
            attrs["http.response.status_code"] = attempt.upstream_status
        failed = attempt.outcome.value != "ok"
        if failed:
            attrs["error.type"] = attempt.error_code or attempt.outcome.value
        # the error message is left out: an upstream may echo the prompt in it
        start = attempt.ended_unix_ns - int(attempt.latency_s * 1e9)
        span = self.tracer.start_span(f"{operation} {model}", context=context, kind=SpanKind.CLIENT,
                                      start_time=start, attributes=attrs)
        if failed:
            span.set_status(Status(StatusCode.ERROR, attempt.error_code or attempt.outcome.value))
        span.end(end_time=attempt.ended_unix_ns)


def _compliance_attributes(rec: RequestRecord) -> dict[str, AttributeValue]:
    """Which rules the request triggered and what was done for the deployment it went to."""
    decision = getattr(rec.compliance, "decision", None)
    if decision is None:
        return {}
    attrs: dict[str, AttributeValue] = {"interlock.compliance.rules": list(decision.rule_names)}
    if not decision.allowed:
        attrs["interlock.compliance.action"] = "refuse"
    elif rec.deployment:
        try:
            attrs["interlock.compliance.action"] = decision.verdict(rec.deployment).action
        except KeyError:  # the deployment was not a compliance candidate (no verdict to report)
            pass
    return attrs


def _attribute_value(value: Any) -> AttributeValue | None:
    """OpenTelemetry takes primitives and homogeneous lists; anything else is left out."""
    if isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        return [str(v) for v in value]
    return None


def _text_message(role: str, text: str) -> str:
    return json.dumps([{"role": role, "parts": [{"type": "text", "content": text}]}])
