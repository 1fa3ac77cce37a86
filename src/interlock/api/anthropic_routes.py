"""Anthropic-compatible route: ``POST /v1/messages``, served by any deployment through the OpenAI-shape core.

Clients send ``x-api-key`` and ``anthropic-version`` headers; both are accepted and not required.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.responses import Response

from interlock.api.exchange import ChatRoute, Exchange, serve_chat
from interlock.api.rendering import anthropic_error, json_response
from interlock.errors import InterlockError
from interlock.gateway.results import ChatResult
from interlock.gateway.streaming import ChatStream
from interlock.wire.anthropic_messages import chat_request_from_messages, parse_messages_request
from interlock.wire.anthropic_responses import AnthropicEventsFromOpenAI, anthropic_message_from_openai
from interlock.wire.openai_chat import ChatCompletionRequest


def _parse(data: Any) -> ChatCompletionRequest:
    return chat_request_from_messages(parse_messages_request(data))


def _render(result: ChatResult) -> Response:
    message = anthropic_message_from_openai(result.response, result.served.deployment.model)
    return json_response(message, headers=result.served.headers())


def _stream_body(stream: ChatStream) -> AsyncIterator[bytes]:
    return sse_anthropic(stream, AnthropicEventsFromOpenAI(stream.served.deployment.model))


MESSAGES = ChatRoute("messages", _parse, _render, _stream_body, anthropic_error)


async def messages(exchange: Exchange) -> Response:
    return await serve_chat(exchange, MESSAGES)


async def sse_anthropic(stream: ChatStream, events: AnthropicEventsFromOpenAI) -> AsyncIterator[bytes]:
    """Anthropic's event sequence; a failure after the first byte ends with an ``error`` event.

    Such a stream has no ``message_stop``, so clients cannot mistake a cut answer for a whole one.
    The stream is always closed at the end, which records the request.
    """
    try:
        async for chunk in stream:
            for name, data in events.feed(chunk):
                yield _event(name, data)
        for name, data in events.finish():
            yield _event(name, data)
    except InterlockError as exc:  # the stream turned anything unexpected into an InterlockError
        yield _event("error", exc.to_anthropic())
    finally:
        await stream.aclose()


def _event(name: str, data: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"
