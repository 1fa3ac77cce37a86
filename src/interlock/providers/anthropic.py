"""Provider for Anthropic's Messages API: the connection (key, version header, pooled client) and its stream.

Wire-format translation lives in ``interlock.wire.anthropic_translate`` and ``anthropic_responses``;
error statuses and bodies are mapped onto the error tree in ``http_errors``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from interlock.config.deployments import AnthropicDeployment
from interlock.errors import UpstreamConnectionError, UpstreamMalformed
from interlock.providers.base import ChatRequest
from interlock.providers.http_client import UpstreamClient
from interlock.providers.http_errors import error_from_stream_event
from interlock.providers.registry import register
from interlock.providers.sse import event_json
from interlock.types import JSON
from interlock.wire.anthropic_responses import OpenAIChunksFromAnthropic, openai_completion_from_anthropic
from interlock.wire.anthropic_translate import anthropic_request_from_openai

MESSAGES_PATH = "/v1/messages"


@register("anthropic")
class AnthropicProvider:
    def __init__(self, deployment: AnthropicDeployment) -> None:
        self.deployment = deployment
        self.upstream_model = deployment.upstream_model or deployment.model
        self.client = UpstreamClient.for_deployment(deployment)

    def _headers(self, request: ChatRequest) -> dict[str, str]:
        headers = {"anthropic-version": self.deployment.anthropic_version}
        if request.request_id:
            headers["x-request-id"] = request.request_id
        key = self.client.key()
        if key:
            headers["x-api-key"] = key
        return headers

    def _body(self, request: ChatRequest) -> JSON:
        default_max_tokens = self.deployment.default_max_tokens
        return anthropic_request_from_openai(request.body, self.upstream_model, default_max_tokens)

    async def complete(self, request: ChatRequest) -> JSON:
        body = self._body(request)
        data = await self.client.post_json(MESSAGES_PATH, body, self._headers(request))
        if data.get("type") != "message" or not isinstance(data.get("content"), list):
            raise UpstreamMalformed(
                f"Upstream deployment {self.deployment.name!r} sent an answer that is not a Messages "
                "API message",
                deployment=self.deployment.name,
            )
        return openai_completion_from_anthropic(data, self.deployment.model)

    async def stream(self, request: ChatRequest) -> AsyncIterator[JSON]:
        body = {**self._body(request), "stream": True}
        chunks = OpenAIChunksFromAnthropic(self.deployment.model, request.include_usage)
        # one generator frame from socket to chunk: the SSE reader is a plain coroutine per network read
        async with self.client.open_sse(MESSAGES_PATH, body, self._headers(request)) as sse:
            while (events := await sse.read()) is not None:
                for event, raw in events:
                    data = event_json(raw, self.deployment.name)
                    if not isinstance(data, dict):
                        raise UpstreamMalformed(
                            f"Upstream deployment {self.deployment.name!r} sent a stream event that is not "
                            "an object",
                            deployment=self.deployment.name,
                        )
                    if event == "error" or data.get("type") == "error":
                        raise error_from_stream_event(self.deployment.name, data)
                    for chunk in chunks.feed(event, data):
                        yield chunk
                    if chunks.finished:
                        return
        raise UpstreamConnectionError(
            f"Upstream deployment {self.deployment.name!r} ended its stream before message_stop",
            deployment=self.deployment.name,
        )

    async def aclose(self) -> None:
        await self.client.aclose()
