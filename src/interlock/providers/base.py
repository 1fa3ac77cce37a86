"""The provider seam: one small Protocol every upstream kind implements.

Requests and responses cross this seam in OpenAI chat-completion shape (plain dicts,
already validated at the HTTP edge); providers translate to and from their own wire
format. A stream yields OpenAI ``chat.completion.chunk`` dicts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from interlock.types import JSON


@dataclass(slots=True)
class ChatRequest:
    """A chat request bound for one deployment.

    ``body`` is the OpenAI-format request (without ``model`` or ``stream``, which the
    provider sets from its own deployment); ``request_id`` travels to upstream logs.
    """

    body: JSON
    request_id: str = ""
    include_usage: bool = True
    extra: JSON = field(default_factory=dict)


@runtime_checkable
class Provider(Protocol):
    """What every upstream kind implements: one completion, one stream, and cleanup."""

    async def complete(self, request: ChatRequest) -> JSON:
        """Return an OpenAI ``chat.completion`` dict (with ``usage``)."""
        ...

    def stream(self, request: ChatRequest) -> AsyncIterator[JSON]:
        """Yield OpenAI ``chat.completion.chunk`` dicts; the last carries ``usage`` when known."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class EmbeddingProvider(Protocol):
    """Optional: providers whose deployments serve embeddings also implement this."""

    async def embed(self, body: JSON, request_id: str = "") -> JSON: ...


async def embed_on(provider: object, body: JSON, request_id: str = "") -> JSON:
    """``provider.embed(...)``; a provider that serves no embeddings refuses the parameter, not the call."""
    embed = getattr(provider, "embed", None)
    if embed is None:
        from interlock.errors import UnsupportedParameter

        raise UnsupportedParameter("This deployment does not serve embeddings.", param="model")
    result: JSON = await embed(body, request_id)
    return result
