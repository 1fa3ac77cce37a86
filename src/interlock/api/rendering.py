"""Rendering responses: JSON bodies, errors in the client's API format, server-sent events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from interlock.api.disconnect import ClientDisconnected, cancel_on_disconnect
from interlock.errors import InterlockError
from interlock.gateway.streaming import ChatStream


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json", headers=headers)


def openai_error(exc: InterlockError, headers: dict[str, str] | None = None) -> Response:
    return json_response(exc.to_openai(), exc.status, {**exc.headers(), **(headers or {})})


def anthropic_error(exc: InterlockError, headers: dict[str, str] | None = None) -> Response:
    return json_response(exc.to_anthropic(), exc.status, {**exc.headers(), **(headers or {})})


def speaks_anthropic(path: str) -> bool:
    """Whether ``path`` is an Anthropic-format route, whose errors clients parse in Anthropic's shape."""
    return path == "/v1/messages" or path.startswith("/v1/messages/")


def error_for_path(path: str, exc: InterlockError) -> Response:
    """An error in the format of the API the path belongs to (OpenAI's everywhere but /v1/messages)."""
    return anthropic_error(exc) if speaks_anthropic(path) else openai_error(exc)


class EventStreamResponse(StreamingResponse):
    """Server-sent events whose first event was produced before the response started.

    Producing it starts the body's generator, so its ``finally`` (recording the request, closing the
    upstream) is sure to run: the body is always closed, however the response ended (a generator
    never started would skip its ``finally`` on ``aclose``). The response stops its body as soon as
    the client disconnects, as Starlette's does. For servers on ASGI spec < 2.4 (uvicorn), Starlette
    watches for the disconnect with an anyio task group per response, about 0.1 ms of CPU;
    ``cancel_on_disconnect`` does the same with a timer, and a task only for a stream still running
    after 50 ms (as for JSON answers).
    """

    def __init__(self, first: bytes, rest: AsyncIterator[bytes], headers: dict[str, str]) -> None:
        super().__init__(rest, media_type="text/event-stream", headers=headers)
        self.first = first

    @classmethod
    async def start(cls, body: AsyncIterator[bytes], headers: dict[str, str]) -> EventStreamResponse:
        """The response of ``body``, once its first event is in (a failure before it raises here)."""
        return cls(await anext(body), body, headers)

    async def stream_response(self, send: Send) -> None:
        # the events are bytes: no per-event type check, and no wrapper between the body and the send
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self.first, "more_body": True})
        async for chunk in self.body_iterator:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self._respond(scope, receive, send)
        finally:
            aclose = getattr(self.body_iterator, "aclose", None)
            if aclose is not None:
                await aclose()

    async def _respond(self, scope: Scope, receive: Receive, send: Send) -> None:
        spec = scope.get("asgi", {}).get("spec_version", "2.0")
        if scope["type"] != "http" or tuple(map(int, spec.split("."))) >= (2, 4):
            await super().__call__(scope, receive, send)
            return
        try:
            async with cancel_on_disconnect(receive):
                await self.stream_response(send)
        except ClientDisconnected:
            pass  # the client left: ``__call__`` closes the body, which closes the upstream and records it
        if self.background is not None:
            await self.background()


async def sse_openai(stream: ChatStream) -> AsyncIterator[bytes]:
    """OpenAI-style SSE; a failure after the first byte ends with an error event and no ``[DONE]``.

    The stream is always closed at the end, which records the request.
    """
    try:
        async for chunk in stream:
            yield b"data: " + orjson.dumps(chunk) + b"\n\n"
        yield b"data: [DONE]\n\n"
    except InterlockError as exc:  # the stream turned anything unexpected into an InterlockError
        yield b"data: " + orjson.dumps(exc.to_openai()) + b"\n\n"
    finally:
        await stream.aclose()
