"""One chat exchange over HTTP, whatever the client's API: parse, serve through the core, render, record.

The OpenAI and Anthropic routes differ only in how they parse a body and render answers and
errors (a ``ChatRoute``); the order of steps lives here once:

1. count the request in flight on the runtime before the first await (a reload waits for it);
2. identify the caller, read and parse the body (400/401/413 in the route's format);
3. serve it while watching the client: if it leaves, the upstream call is cancelled at once;
4. render, and record the request exactly once (ledger, audit, metrics).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from interlock.api.body import read_json
from interlock.api.disconnect import cancel_on_disconnect
from interlock.api.middleware import upstream_request_id
from interlock.api.rendering import EventStreamResponse, PrimedStream
from interlock.api.unexpected import internal_error
from interlock.api.state import AppState
from interlock.errors import InterlockError
from interlock.gateway.results import ChatResult, ChatStream, Hints
from interlock.gateway.service import Gateway
from interlock.observability.record import RequestRecord
from interlock.wire.openai_chat import ChatCompletionRequest

OnEnd = Callable[[InterlockError | None, bool], None]


@dataclass(frozen=True, slots=True)
class ChatRoute:
    endpoint: str
    parse: Callable[[Any], ChatCompletionRequest]
    render: Callable[[ChatResult], Response]
    stream_body: Callable[[ChatStream, OnEnd], AsyncIterator[bytes]]
    render_error: Callable[[InterlockError], Response]


def presented_key(request: Request) -> str | None:
    """The client's key: OpenAI clients send ``Authorization: Bearer``, Anthropic clients ``x-api-key``."""
    return request.headers.get("authorization") or request.headers.get("x-api-key")


def hints_from(request: Request) -> Hints:
    return Hints(route=request.headers.get("x-interlock-route"), pin=request.headers.get("x-interlock-pin"))


def app_state(request: Request) -> AppState:
    return request.app.state.interlock  # type: ignore[no-any-return]


class Recorder:
    """Records one request exactly once, whichever path (answer, error, end of stream) gets there first."""

    def __init__(self, gateway: Gateway, rec: RequestRecord) -> None:
        self.gateway, self.rec = gateway, rec
        self.done = False

    def __call__(self, error: InterlockError | None = None, status: int | None = None) -> None:
        if not self.done:
            self.done = True
            self.gateway.record(self.rec, error, status=status)

    def stream_ended(self, error: InterlockError | None, completed: bool) -> None:
        self(error, status=None if completed else 499)


async def serve_chat(request: Request, route: ChatRoute) -> Response:
    gateway = app_state(request).gateway  # read once: the request finishes on the config it started with
    rec = RequestRecord(request_id=request.state.request_id, upstream_request_id=upstream_request_id(request), endpoint=route.endpoint)
    gateway.begin(rec)
    record = Recorder(gateway, rec)
    try:
        caller = await gateway.identify(presented_key(request))
        req = route.parse(await read_json(request, gateway.runtime.config.server.max_body_bytes))
        hints = hints_from(request)
        async with cancel_on_disconnect(request.receive):
            if req.stream:
                stream = await gateway.chat_stream(req, rec, caller, hints)
            else:
                result = await gateway.chat(req, rec, caller, hints)
        if req.stream:
            headers = {**stream.served.headers(), "cache-control": "no-cache"}
            # from here the stream's own end records the request (499 when the client leaves)
            body = await PrimedStream.start(route.stream_body(stream, record.stream_ended))
            return EventStreamResponse(body, media_type="text/event-stream", headers=headers)
        response = route.render(result)
    except InterlockError as exc:
        record(exc)
        return route.render_error(exc)
    except Exception as exc:
        error = internal_error(exc, request.url.path)
        record(error)
        return route.render_error(error)
    record()
    return response
