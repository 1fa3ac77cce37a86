"""Serving one chat request: resolve the model, choose a deployment, call its provider, record the outcome.

Core logic only: no HTTP objects here. The API layer parses and renders; this module decides.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from interlock.catalog.catalog import CatalogModel
from interlock.config.deployments import DeploymentBase
from interlock.errors import InterlockError
from interlock.gateway.capabilities import check_supported, unmet_needs
from interlock.gateway.runtime import Runtime
from interlock.observability.logging import log_request
from interlock.observability.record import RequestRecord
from interlock.providers.base import ChatRequest, Usage
from interlock.wire.openai_chat import ChatCompletionRequest

JSON = dict[str, Any]


@dataclass(slots=True)
class ChatResult:
    response: JSON
    deployment: DeploymentBase


@dataclass(slots=True)
class ChatStream:
    deployment: DeploymentBase
    chunks: AsyncIterator[JSON]


class Gateway:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def choose_deployment(self, model: CatalogModel, req: ChatCompletionRequest) -> DeploymentBase:
        """The first deployment of the model that can meet the request's needs."""
        for d in model.deployments:
            if not unmet_needs(req, d):
                return d
        check_supported(req, model.primary)  # raises, naming the first unmet need
        return model.primary

    def _prepare(self, req: ChatCompletionRequest, rec: RequestRecord) -> tuple[DeploymentBase, ChatRequest]:
        rec.requested_model = req.model
        rec.stream = req.stream
        rec.config_hash = self.runtime.config_hash
        model = self.runtime.catalog.resolve(req.model)
        deployment = self.choose_deployment(model, req)
        rec.model, rec.deployment = deployment.model, deployment.name
        rec.attempts = 1
        if self.runtime.config.server.log_prompts:
            rec.prompt_text = "\n".join(str(m.content) for m in req.messages)
        return deployment, ChatRequest(body=req.upstream_body(), request_id=rec.request_id)

    async def chat(self, req: ChatCompletionRequest, rec: RequestRecord) -> ChatResult:
        deployment, creq = self._prepare(req, rec)
        provider = self.runtime.providers[deployment.name]
        response = await provider.complete(creq)
        response["model"] = deployment.model
        rec.usage = Usage.from_openai(response.get("usage"))
        if rec.prompt_text is not None:
            rec.completion_text = "".join(
                str((c.get("message") or {}).get("content") or "") for c in response.get("choices", [])
            )
        return ChatResult(response, deployment)

    async def chat_stream(self, req: ChatCompletionRequest, rec: RequestRecord) -> ChatStream:
        """Start the stream and wait for its first chunk, so failures before the first byte are plain errors."""
        deployment, creq = self._prepare(req, rec)
        provider = self.runtime.providers[deployment.name]
        upstream = provider.stream(creq).__aiter__()
        try:
            first = await anext(upstream)
        except StopAsyncIteration:
            first = None
        except BaseException:
            await _close(upstream)
            raise
        rec.mark_first_token()
        want_usage = bool(req.stream_options and req.stream_options.include_usage)
        return ChatStream(deployment, self._relay(first, upstream, deployment, rec, want_usage))

    async def _relay(
        self, first: JSON | None, upstream: AsyncIterator[JSON], deployment: DeploymentBase,
        rec: RequestRecord, want_usage: bool,
    ) -> AsyncIterator[JSON]:
        parts: list[str] | None = [] if rec.prompt_text is not None else None
        try:
            chunk = first
            while chunk is not None:
                chunk["model"] = deployment.model
                usage = chunk.get("usage")
                if usage:
                    rec.usage = Usage.from_openai(usage)
                if parts is not None:
                    for choice in chunk.get("choices") or ():
                        parts.append(str((choice.get("delta") or {}).get("content") or ""))
                if want_usage or not (usage and not chunk.get("choices")):
                    if not want_usage and usage:
                        chunk = {k: v for k, v in chunk.items() if k != "usage"}
                    yield chunk
                try:
                    chunk = await anext(upstream)
                except StopAsyncIteration:
                    chunk = None
        finally:
            await _close(upstream)
            if parts is not None:
                rec.completion_text = "".join(parts)

    def record(self, rec: RequestRecord, error: InterlockError | None = None, status: int | None = None) -> None:
        """Emit the finished request to metrics and the request log."""
        if error is not None:
            rec.finish(error.status, error.code or error.error_type)
        else:
            rec.finish(status or 200)
        self.runtime.metrics.observe(rec)
        log_request(rec, self.runtime.config.server.log_prompts)


async def _close(it: AsyncIterator[JSON]) -> None:
    aclose = getattr(it, "aclose", None)
    if aclose is not None:
        await aclose()
