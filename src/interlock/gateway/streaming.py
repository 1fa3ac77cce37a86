"""``ChatStream``: the answer of a streamed request, as the HTTP layer iterates it.

A plain async iterator, not a generator: per chunk it adds no frame of its own between the
renderer and the fallback chain. It sets the served model on each chunk, notes usage and the
delivered text, drops the upstream's usage chunk when the client did not ask for it, and turns an
unexpected failure into the gateway's internal error. ``aclose`` (which the renderer always
calls) settles the budget hold and ends the request's hold on the pipeline, which records it:
200 when the stream ended or broke with an error event, 499 when the client left first.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

from interlock.errors import InterlockError
from interlock.gateway.context import RequestContext
from interlock.gateway.results import Served
from interlock.observability.unexpected import internal_error
from interlock.routing.tokens import count_messages, count_text
from interlock.types import JSON, Usage


class Hold(Protocol):
    """The pipeline's hold on a request (``pipeline._Hold``); closing it records the request."""

    async def aclose(self) -> None: ...


Settler = Callable[[RequestContext, Usage | None, str], Awaitable[None]]


class ChatStream:
    def __init__(self, ctx: RequestContext, first: JSON, upstream: AsyncIterator[JSON],
                 finish: Hold, settle: Settler) -> None:
        assert ctx.served is not None
        self.served: Served = ctx.served
        self._ctx = ctx
        self._model = ctx.served.deployment.model
        self._first: JSON | None = first
        self._upstream = upstream
        self._finish = finish  # the pipeline's hold, handed over: closing it records the request
        self._settle = settle
        chat = ctx.request
        self._want_usage = bool(chat.stream_options and chat.stream_options.include_usage)
        self._parts: list[str] = []
        self._usage: Usage | None = None
        self._ended = False
        self._closed = False

    def __aiter__(self) -> ChatStream:
        return self

    async def __anext__(self) -> JSON:
        while True:
            if self._first is not None:
                chunk, self._first = self._first, None
            else:
                try:
                    chunk = await self._upstream.__anext__()
                except StopAsyncIteration:
                    self._ended = True
                    raise
                except InterlockError as exc:
                    self._ctx.error = exc
                    raise
                except Exception as exc:
                    self._ctx.error = error = internal_error(exc, self._ctx.record.endpoint)
                    raise error from exc
            chunk["model"] = self._model
            usage = chunk.get("usage")
            if usage:
                self._usage = Usage.from_openai(usage)
            for choice in chunk.get("choices") or ():
                content = (choice.get("delta") or {}).get("content")
                if content:
                    self._parts.append(str(content))
            if usage and not self._want_usage:
                if chunk.get("choices"):
                    return {k: v for k, v in chunk.items() if k != "usage"}
                continue
            return chunk

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        ctx, rec = self._ctx, self._ctx.record
        try:
            aclose = getattr(self._upstream, "aclose", None)
            if aclose is not None:
                await aclose()
        finally:
            text = "".join(self._parts)
            usage = self._usage
            if usage is None:  # cut off or no usage from upstream: count what was delivered, marked estimated
                assert ctx.upstream is not None
                prompt = ctx.prompt_tokens or count_messages(ctx.upstream.body["messages"])
                usage = Usage(prompt_tokens=prompt, completion_tokens=count_text(text), estimated=True)
            if rec.prompt_text is not None:
                rec.completion_text = text
            if ctx.status is None and not self._ended and ctx.error is None:
                ctx.status = 499  # the client left before the end
            try:
                await self._settle(ctx, usage, text)
            finally:
                await self._finish.aclose()
