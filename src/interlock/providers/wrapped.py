"""``WrappedProvider``: the base of every provider that wraps another, with one closing rule.

A wrapper forwards ``complete``, ``stream``, ``embed`` and ``aclose`` to ``inner``; subclasses
override only what they change. Closing: a wrapper closes what it wraps, unless it was built as a
per-request view (``owns_inner=False``), whose ``aclose`` does nothing because whoever made the
long-lived provider closes it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from interlock.providers.base import JSON, ChatRequest, Provider, embed_on


class WrappedProvider:
    """Forwards every call to ``inner``. ``owns_inner``: whether ``aclose`` closes ``inner``."""

    __slots__ = ("inner", "owns_inner")

    def __init__(self, inner: Provider, *, owns_inner: bool = True) -> None:
        self.inner = inner
        self.owns_inner = owns_inner

    async def complete(self, request: ChatRequest) -> JSON:
        return await self.inner.complete(request)

    def stream(self, request: ChatRequest) -> AsyncIterator[JSON]:
        # returns the inner stream itself: forwarding adds no generator frame per chunk
        return self.inner.stream(request)

    async def embed(self, body: JSON, request_id: str = "") -> JSON:
        """The inner provider's embeddings; ``UnsupportedParameter`` when it serves none."""
        return await embed_on(self.inner, body, request_id)

    async def aclose(self) -> None:
        if self.owns_inner:
            await self.inner.aclose()
