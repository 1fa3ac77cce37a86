"""Anthropic-compatible route: ``POST /v1/messages``, served by any deployment through the OpenAI-shape core.

Clients send ``x-api-key`` and ``anthropic-version`` headers; both are accepted and not required.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from interlock.api.body import read_json
from interlock.api.openai_routes import hints_from, presented_key
from interlock.api.rendering import EventStreamResponse, anthropic_error, json_response
from interlock.api.state import AppState
from interlock.errors import InterlockError
from interlock.observability.record import RequestRecord
from interlock.wire.anthropic_messages import chat_request_from_messages, parse_messages_request
from interlock.wire.anthropic_responses import AnthropicEventsFromOpenAI, anthropic_message_from_openai

log = logging.getLogger("interlock.api")


async def messages(request: Request) -> Response:
    state: AppState = request.app.state.interlock
    gateway = state.gateway
    rec = RequestRecord(request_id=request.state.request_id, endpoint="messages")
    try:
        caller = await gateway.identify(presented_key(request))
        parsed = parse_messages_request(await read_json(request, gateway.runtime.config.server.max_body_bytes))
        req = chat_request_from_messages(parsed)
        if req.stream:
            stream = await gateway.chat_stream(req, rec, caller, hints_from(request))

            def on_end(error: InterlockError | None, completed: bool) -> None:
                gateway.record(rec, error, status=None if completed else 499)

            events = AnthropicEventsFromOpenAI(stream.served.deployment.model)
            return EventStreamResponse(
                sse_anthropic(stream.chunks, events, on_end),
                media_type="text/event-stream",
                headers={**stream.served.headers(), "cache-control": "no-cache"},
            )
        result = await gateway.chat(req, rec, caller, hints_from(request))
        message = anthropic_message_from_openai(result.response, result.served.deployment.model)
    except InterlockError as exc:
        gateway.record(rec, exc)
        return anthropic_error(exc)
    gateway.record(rec)
    return json_response(message, headers=result.served.headers())


async def sse_anthropic(
    chunks: AsyncIterator[dict[str, Any]],
    events: AnthropicEventsFromOpenAI,
    on_end: Callable[[InterlockError | None, bool], None],
) -> AsyncIterator[bytes]:
    """Anthropic's event sequence; a failure after the first byte ends with an ``error`` event.

    Such a stream has no ``message_stop``, so clients cannot mistake a cut answer for a whole one.

    ``on_end(error, completed)`` runs once at the end; ``completed`` is False when the client left early.
    """
    error: InterlockError | None = None
    completed = False
    try:
        async for chunk in chunks:
            for name, data in events.feed(chunk):
                yield _event(name, data)
        for name, data in events.finish():
            yield _event(name, data)
        completed = True
    except InterlockError as exc:
        error = exc
        yield _event("error", exc.to_anthropic())
    except Exception:
        log.exception("stream failed")
        error = InterlockError("The stream failed inside the gateway.", code="internal_error")
        yield _event("error", error.to_anthropic())
    finally:
        on_end(error, completed or error is not None)


def _event(name: str, data: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"
