"""One exchange over HTTP, whatever the client's API: build the context, run the pipeline, render.

The OpenAI and Anthropic routes differ only in how they parse a body and render answers and
errors (a ``ChatRoute``). The pipeline (``gateway/pipeline.py``) counts the request in flight,
records it exactly once and keeps the step order; this module only turns HTTP into a
``RequestContext`` and the outcome into a response.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope

from interlock.api.body import read_json
from interlock.api.disconnect import cancel_on_disconnect
from interlock.api.rendering import EventStreamResponse
from interlock.api.state import AppState
from interlock.errors import InterlockError
from interlock.gateway.context import RequestContext
from interlock.gateway.pipeline import Pipeline
from interlock.gateway.results import ChatResult, Hints
from interlock.gateway.streaming import ChatStream
from interlock.observability.record import RequestRecord
from interlock.wire.openai_chat import ChatCompletionRequest


@dataclass(frozen=True, slots=True)
class ChatRoute:
    endpoint: str
    parse: Callable[[Any], ChatCompletionRequest]
    render: Callable[[ChatResult], Response]
    stream_body: Callable[[ChatStream], AsyncIterator[bytes]]
    render_error: Callable[[InterlockError], Response]


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request on an API route as its handler sees it (``api/front.py`` makes it)."""

    scope: Scope
    receive: Receive
    state: AppState
    request_id: str
    upstream_request_id: str  # the id upstreams see: the gateway's own, never the client's


def app_state(request: Request) -> AppState:
    return request.app.state.interlock  # type: ignore[no-any-return]


_WANTED = frozenset({b"authorization", b"x-api-key", b"x-interlock-route", b"x-interlock-pin", b"content-length"})


def context_for(exchange: Exchange, pipeline: Pipeline, endpoint: str) -> RequestContext:
    """The request as the pipeline sees it; the headers it needs are read in one pass over the raw list."""
    found: dict[bytes, str] = {}
    for name, value in exchange.scope["headers"]:
        if name in _WANTED and name not in found:
            found[name] = value.decode("latin-1")
    rec = RequestRecord(request_id=exchange.request_id, upstream_request_id=exchange.upstream_request_id,
                        endpoint=endpoint)
    return RequestContext(
        record=rec, presented_key=found.get(b"authorization") or found.get(b"x-api-key"),
        hints=Hints(route=found.get(b"x-interlock-route"), pin=found.get(b"x-interlock-pin")),
        read_body=partial(read_json, exchange.receive, found.get(b"content-length"), pipeline.max_body_bytes),
        watch_client=partial(cancel_on_disconnect, exchange.receive),
    )


async def serve_chat(exchange: Exchange, route: ChatRoute) -> Response:
    pipeline = exchange.state.pipeline  # read once: the request finishes on the config it started with
    try:
        outcome = await pipeline.chat(context_for(exchange, pipeline, route.endpoint), route.parse)
    except InterlockError as exc:
        return route.render_error(exc)
    if isinstance(outcome, ChatStream):
        headers = {**outcome.served.headers(), "cache-control": "no-cache"}
        return await EventStreamResponse.start(route.stream_body(outcome), headers)
    return route.render(outcome)
