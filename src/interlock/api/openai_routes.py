"""OpenAI-compatible routes: chat completions, models, embeddings."""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response

from interlock.api.exchange import ChatRoute, Exchange, app_state, context_for, serve_chat
from interlock.api.rendering import json_response, openai_error, sse_openai
from interlock.errors import InterlockError
from interlock.gateway.results import ChatResult
from interlock.gateway.streaming import ChatStream
from interlock.wire.openai_chat import parse_chat_request

__all__ = ["chat_completions", "embeddings", "get_model", "list_models"]


def _render(result: ChatResult) -> Response:
    return json_response(result.response, headers=result.served.headers())


def _stream_body(stream: ChatStream) -> AsyncIterator[bytes]:
    return sse_openai(stream)


CHAT = ChatRoute("chat", parse_chat_request, _render, _stream_body, openai_error)


async def chat_completions(exchange: Exchange) -> Response:
    return await serve_chat(exchange, CHAT)


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


async def embeddings(exchange: Exchange) -> Response:
    pipeline = exchange.state.pipeline
    try:
        result, served = await pipeline.embed(context_for(exchange, pipeline, "embeddings"))
    except InterlockError as exc:
        return openai_error(exc)
    return json_response(result, headers=served.headers())
