"""Provider for OpenAI and every server speaking its chat-completions API (vLLM, llama.cpp, TGI, Ollama...)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from interlock.config.deployments import OpenAIDeployment
from interlock.errors import UpstreamConnectionError, UpstreamMalformed
from interlock.providers.base import ChatRequest
from interlock.providers.http_client import UpstreamClient
from interlock.providers.registry import register
from interlock.providers.sse import event_json
from interlock.types import JSON


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

    def _malformed(self, what: str) -> UpstreamMalformed:
        return UpstreamMalformed(f"Upstream deployment {self.deployment.name!r} sent {what}",
                                 deployment=self.deployment.name)

    async def complete(self, request: ChatRequest) -> JSON:
        body = {**request.body, "model": self.upstream_model}
        data = await self.client.post_json("/chat/completions", body, self._headers(request))
        problem = completion_problem(data)
        if problem:
            raise self._malformed(f"a completion with {problem}")
        return data

    async def stream(self, request: ChatRequest) -> AsyncIterator[JSON]:
        body: JSON = {**request.body, "model": self.upstream_model, "stream": True}
        if request.include_usage:
            body["stream_options"] = {"include_usage": True}
        # one generator frame from socket to chunk: the SSE reader is a plain coroutine per network read
        async with self.client.open_sse("/chat/completions", body, self._headers(request)) as sse:
            while (events := await sse.read()) is not None:
                for _event, data in events:
                    if data.strip() == "[DONE]":
                        return
                    chunk = event_json(data, self.deployment.name)
                    if isinstance(chunk, dict) and "error" in chunk:
                        err = chunk["error"]
                        msg = err.get("message") if isinstance(err, dict) else str(err)
                        raise UpstreamConnectionError(
                            f"Upstream deployment {self.deployment.name!r} reported an error mid-stream: {msg}",
                            deployment=self.deployment.name,
                        )
                    problem = chunk_problem(chunk)
                    if problem:
                        raise self._malformed(f"a stream chunk with {problem}")
                    yield chunk
        raise UpstreamConnectionError(
            f"Upstream deployment {self.deployment.name!r} ended its stream before [DONE]",
            deployment=self.deployment.name,
        )

    async def embed(self, body: JSON, request_id: str = "") -> JSON:
        headers = {"x-request-id": request_id} if request_id else {}
        key = self.client.key()
        if key:
            headers["authorization"] = f"Bearer {key}"
        data = await self.client.post_json("/embeddings", {**body, "model": self.upstream_model}, headers)
        if not isinstance(data, dict) or not isinstance(data.get("data"), list):
            raise self._malformed("an embeddings answer without a `data` list")
        problem = usage_problem(data.get("usage"))
        if problem:
            raise self._malformed(f"an embeddings answer with {problem}")
        return data

    async def aclose(self) -> None:
        await self.client.aclose()


# What the gateway reads from an answer (choices, messages, tool calls, usage) is checked here, once,
# so a 200 of the wrong shape is an upstream failure (502, another deployment may serve) and not a
# crash after the upstream was paid.


def _count_problem(value: Any, name: str) -> str | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return None
    return f"`{name}` that is not a token count"


def usage_problem(usage: Any) -> str | None:
    if usage is None:
        return None
    if not isinstance(usage, dict):
        return "`usage` that is not an object"
    for name in ("prompt_tokens", "completion_tokens", "total_tokens"):
        problem = _count_problem(usage.get(name), f"usage.{name}")
        if problem:
            return problem
    details = usage.get("prompt_tokens_details")
    if details is None:
        return None
    if not isinstance(details, dict):
        return "`usage.prompt_tokens_details` that is not an object"
    return _count_problem(details.get("cached_tokens"), "usage.prompt_tokens_details.cached_tokens")


def _message_problem(message: Any, where: str, streamed: bool) -> str | None:
    if not isinstance(message, dict):
        return f"`{where}` that is not an object"
    content = message.get("content")
    if not (content is None or isinstance(content, str)
            or (isinstance(content, list) and all(isinstance(p, dict) for p in content))):
        return f"`{where}.content` that is neither text nor a list of parts"
    calls = message.get("tool_calls")
    if calls is None:
        return None
    if not isinstance(calls, list):
        return f"`{where}.tool_calls` that is not a list"
    for call in calls:
        # a streamed tool call may arrive in pieces; a whole one needs its function
        if not isinstance(call, dict) or not isinstance(call.get("function", {} if streamed else None), dict):
            return f"a tool call in `{where}` without a `function` object"
    return None


def _choices_problem(choices: Any, part: str) -> str | None:
    if not isinstance(choices, list):
        return "`choices` that is not a list"
    for i, choice in enumerate(choices):
        if not isinstance(choice, dict):
            return f"`choices[{i}]` that is not an object"
        problem = _message_problem(choice.get(part) or {}, f"choices[{i}].{part}", part == "delta")
        if problem:
            return problem
    return None


def completion_problem(data: Any) -> str | None:
    """What is wrong with a ``chat.completion`` the gateway must read, or None."""
    if not isinstance(data, dict):
        return "a body that is not an object"
    if "choices" not in data:
        return "no `choices`"
    return _choices_problem(data["choices"], "message") or usage_problem(data.get("usage"))


def chunk_problem(chunk: Any) -> str | None:
    """What is wrong with a ``chat.completion.chunk`` the gateway must read, or None."""
    if not isinstance(chunk, dict):
        return "a body that is not an object"
    choices = chunk.get("choices")
    if type(choices) is list and len(choices) == 1 and chunk.get("usage") is None:
        # the common chunk, checked without building messages: one choice whose delta is text
        delta = choices[0].get("delta") if type(choices[0]) is dict else None
        if type(delta) is dict and "tool_calls" not in delta and type(delta.get("content", "")) in (str, type(None)):
            return None
    return _choices_problem(chunk.get("choices") or [], "delta") or usage_problem(chunk.get("usage"))
