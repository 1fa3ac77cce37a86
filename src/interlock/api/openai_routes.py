"""OpenAI-compatible routes: chat completions, models, embeddings."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from interlock.api.body import read_json
from interlock.api.rendering import EventStreamResponse, json_response, openai_error, sse_openai
from interlock.api.state import AppState
from interlock.errors import InterlockError, InvalidRequest
from interlock.gateway.results import Hints
from interlock.observability.record import RequestRecord
from interlock.wire.openai_chat import parse_chat_request


def presented_key(request: Request) -> str | None:
    """The client's key: OpenAI clients send ``Authorization: Bearer``, Anthropic clients ``x-api-key``."""
    return request.headers.get("authorization") or request.headers.get("x-api-key")


def hints_from(request: Request) -> Hints:
    return Hints(route=request.headers.get("x-interlock-route"), pin=request.headers.get("x-interlock-pin"))


def _state(request: Request) -> AppState:
    return request.app.state.interlock  # type: ignore[no-any-return]


async def chat_completions(request: Request) -> Response:
    state = _state(request)
    gateway = state.gateway
    rec = RequestRecord(request_id=request.state.request_id, endpoint="chat")
    try:
        caller = await gateway.identify(presented_key(request))
        req = parse_chat_request(await read_json(request, gateway.runtime.config.server.max_body_bytes))
        hints = hints_from(request)
        if req.stream:
            stream = await gateway.chat_stream(req, rec, caller, hints)

            def on_end(error: InterlockError | None, completed: bool) -> None:
                gateway.record(rec, error, status=None if completed else 499)

            return EventStreamResponse(
                sse_openai(stream.chunks, on_end),
                media_type="text/event-stream",
                headers={**stream.served.headers(), "cache-control": "no-cache"},
            )
        result = await gateway.chat(req, rec, caller, hints)
    except InterlockError as exc:
        gateway.record(rec, exc)
        return openai_error(exc)
    gateway.record(rec)
    return json_response(result.response, headers=result.served.headers())


async def list_models(request: Request) -> Response:
    state = _state(request)
    routes = [
        {"id": r.name, "object": "model", "created": state.started_at, "owned_by": "interlock", "route": True,
         "error_cost": r.error_cost, "candidates": r.candidates or sorted(state.runtime.catalog.models)}
        for r in state.runtime.router.routes.values()
    ]
    return json_response({"object": "list", "data": state.runtime.catalog.listing(state.started_at) + routes})


async def get_model(request: Request) -> Response:
    state = _state(request)
    name = request.path_params["model"]
    try:
        model = state.runtime.catalog.resolve(name)
    except InterlockError as exc:
        return openai_error(exc)
    entry = model.to_openai(state.started_at)
    entry["id"] = name
    return json_response(entry)


async def embeddings(request: Request) -> Response:
    state = _state(request)
    gateway = state.gateway
    rec = RequestRecord(request_id=request.state.request_id, endpoint="embeddings")
    try:
        caller = await gateway.identify(presented_key(request))
        body = await read_json(request, gateway.runtime.config.server.max_body_bytes)
        model_name, payload = _parse_embeddings(body)
        result, served = await gateway.embed(model_name, payload, rec, caller)
    except InterlockError as exc:
        gateway.record(rec, exc)
        return openai_error(exc)
    gateway.record(rec)
    return json_response(result, headers=served.headers())


def _parse_embeddings(body: Any) -> tuple[str, dict[str, Any]]:
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    allowed = {"model", "input", "encoding_format", "dimensions", "user"}
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise InvalidRequest(f"Unrecognized request argument supplied: {unknown[0]}", param=unknown[0])
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidRequest("Missing required parameter: 'model'.", param="model")
    inp = body.get("input")
    if not (isinstance(inp, str) or (isinstance(inp, list) and inp)):
        raise InvalidRequest("'input' must be a string or a non-empty list.", param="input")
    return model, {k: v for k, v in body.items() if k != "model"}
