"""OpenAI-compatible routes: chat completions, models, embeddings."""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response

from interlock.api.body import read_json
from interlock.api.disconnect import cancel_on_disconnect
from interlock.api.middleware import upstream_request_id
from interlock.api.exchange import (
    ChatRoute,
    OnEnd,
    Recorder,
    app_state,
    hints_from,
    presented_key,
    serve_chat,
)
from interlock.api.rendering import json_response, openai_error, sse_openai
from interlock.api.unexpected import internal_error
from interlock.errors import InterlockError
from interlock.gateway.results import ChatResult, ChatStream
from interlock.observability.record import RequestRecord
from interlock.wire.openai_chat import parse_chat_request
from interlock.wire.openai_embeddings import parse_embeddings_request

__all__ = ["chat_completions", "embeddings", "get_model", "hints_from", "list_models", "presented_key"]


def _render(result: ChatResult) -> Response:
    return json_response(result.response, headers=result.served.headers())


def _stream_body(stream: ChatStream, on_end: OnEnd) -> AsyncIterator[bytes]:
    return sse_openai(stream.chunks, on_end)


CHAT = ChatRoute("chat", parse_chat_request, _render, _stream_body, openai_error)


async def chat_completions(request: Request) -> Response:
    return await serve_chat(request, CHAT)


async def list_models(request: Request) -> Response:
    state = app_state(request)
    routes = [
        {"id": r.name, "object": "model", "created": state.started_at, "owned_by": "interlock", "route": True,
         "error_cost": r.error_cost, "candidates": r.candidates or sorted(state.runtime.catalog.models)}
        for r in state.runtime.router.routes.values()
    ]
    return json_response({"object": "list", "data": state.runtime.catalog.listing(state.started_at) + routes})


async def get_model(request: Request) -> Response:
    state = app_state(request)
    name = request.path_params["model"]
    try:
        model = state.runtime.catalog.resolve(name)
    except InterlockError as exc:
        return openai_error(exc)
    entry = model.to_openai(state.started_at)
    entry["id"] = name
    return json_response(entry)


async def embeddings(request: Request) -> Response:
    gateway = app_state(request).gateway
    rec = RequestRecord(request_id=request.state.request_id, upstream_request_id=upstream_request_id(request), endpoint="embeddings")
    gateway.begin(rec)  # before the first await: a reload keeps this runtime open until record()
    record = Recorder(gateway, rec)
    try:
        caller = await gateway.identify(presented_key(request))
        model_name, payload = parse_embeddings_request(
            await read_json(request, gateway.runtime.config.server.max_body_bytes))
        async with cancel_on_disconnect(request.receive):
            result, served = await gateway.embed(model_name, payload, rec, caller)
    except InterlockError as exc:
        record(exc)
        return openai_error(exc)
    except Exception as exc:
        error = internal_error(exc, request.url.path)
        record(error)
        return openai_error(error)
    record()
    return json_response(result, headers=served.headers())
