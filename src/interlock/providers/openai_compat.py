"""Provider for OpenAI and every server speaking its chat-completions API (vLLM, llama.cpp, TGI, Ollama...)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson

from interlock.config.deployments import OpenAIDeployment
from interlock.errors import UpstreamConnectionError, UpstreamMalformed
from interlock.providers.base import ChatRequest
from interlock.providers.http_client import UpstreamClient
from interlock.providers.registry import register

JSON = dict[str, Any]


@register("openai")
class OpenAICompatProvider:
    def __init__(self, deployment: OpenAIDeployment) -> None:
        self.deployment = deployment
        self.upstream_model = deployment.upstream_model or deployment.model
        self.client = UpstreamClient.for_deployment(deployment)

    def _headers(self, request: ChatRequest) -> dict[str, str]:
        headers = {"x-request-id": request.request_id} if request.request_id else {}
        key = self.client.key()
        if key:
            headers["authorization"] = f"Bearer {key}"
        return headers

    async def complete(self, request: ChatRequest) -> JSON:
        body = {**request.body, "model": self.upstream_model}
        data = await self.client.post_json("/chat/completions", body, self._headers(request))
        if not isinstance(data.get("choices"), list):
            raise UpstreamMalformed(
                f"Upstream deployment {self.deployment.name!r} sent a completion without `choices`",
                deployment=self.deployment.name,
            )
        return data

    async def stream(self, request: ChatRequest) -> AsyncIterator[JSON]:
        body: JSON = {**request.body, "model": self.upstream_model, "stream": True}
        if request.include_usage:
            body["stream_options"] = {"include_usage": True}
        done = False
        async for _event, data in self.client.post_sse("/chat/completions", body, self._headers(request)):
            if data.strip() == "[DONE]":
                done = True
                break
            try:
                chunk = orjson.loads(data)
            except orjson.JSONDecodeError:
                raise UpstreamMalformed(
                    f"Upstream deployment {self.deployment.name!r} sent a stream event that is not JSON",
                    deployment=self.deployment.name,
                ) from None
            if isinstance(chunk, dict) and "error" in chunk:
                err = chunk["error"]
                msg = err.get("message") if isinstance(err, dict) else str(err)
                raise UpstreamConnectionError(
                    f"Upstream deployment {self.deployment.name!r} reported an error mid-stream: {msg}",
                    deployment=self.deployment.name,
                )
            yield chunk
        if not done:
            raise UpstreamConnectionError(
                f"Upstream deployment {self.deployment.name!r} ended its stream before [DONE]",
                deployment=self.deployment.name,
            )

    async def embed(self, body: JSON, request_id: str = "") -> JSON:
        headers = {"x-request-id": request_id} if request_id else {}
        key = self.client.key()
        if key:
            headers["authorization"] = f"Bearer {key}"
        return await self.client.post_json("/embeddings", {**body, "model": self.upstream_model}, headers)

    async def aclose(self) -> None:
        await self.client.aclose()
