"""The wrapper base: forwards every call, and closes what it wraps unless it is a per-request view."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from interlock.errors import UnsupportedParameter
from interlock.providers.base import ChatRequest
from interlock.providers.wrapped import WrappedProvider

JSON = dict[str, Any]


class Upstream:
    def __init__(self) -> None:
        self.closed = False

    async def complete(self, request: ChatRequest) -> JSON:
        return {"answer": request.body["q"]}

    async def stream(self, request: ChatRequest) -> AsyncIterator[JSON]:
        for i in range(2):
            yield {"i": i}

    async def embed(self, body: JSON, request_id: str = "") -> JSON:
        return {"data": [body["input"]], "id": request_id}

    async def aclose(self) -> None:
        self.closed = True


class ChatOnly(Upstream):
    embed = None  # type: ignore[assignment]


async def test_every_call_is_forwarded_and_a_stream_without_a_frame_of_its_own() -> None:
    inner = Upstream()
    wrapped = WrappedProvider(inner)
    request = ChatRequest(body={"q": 1})
    assert await wrapped.complete(request) == {"answer": 1}
    stream = wrapped.stream(request)
    assert stream.ag_code is Upstream.stream.__code__  # type: ignore[attr-defined]  # the inner one itself
    assert [c async for c in stream] == [{"i": 0}, {"i": 1}]
    assert await wrapped.embed({"input": "x"}, "r1") == {"data": ["x"], "id": "r1"}
    await wrapped.aclose()
    assert inner.closed


async def test_a_per_request_view_does_not_close_what_it_wraps() -> None:
    inner = Upstream()
    await WrappedProvider(inner, owns_inner=False).aclose()
    assert not inner.closed


async def test_embed_on_a_chat_only_provider_refuses_the_parameter() -> None:
    with pytest.raises(UnsupportedParameter):
        await WrappedProvider(ChatOnly()).embed({"input": "x"})
