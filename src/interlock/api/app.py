"""Building the ASGI app: routes, middleware, error handlers and the runtime's lifespan."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from interlock.api import health_routes, openai_routes
from interlock.api.middleware import RequestIdMiddleware
from interlock.api.rendering import openai_error
from interlock.api.state import AppState
from interlock.errors import InterlockError, InvalidRequest, ModelNotFound
from interlock.gateway.runtime import Runtime
from interlock.gateway.service import Gateway

log = logging.getLogger("interlock.api")


def _routes() -> list[Route]:
    return [
        Route("/v1/chat/completions", openai_routes.chat_completions, methods=["POST"]),
        Route("/v1/models", openai_routes.list_models, methods=["GET"]),
        Route("/v1/models/{model:path}", openai_routes.get_model, methods=["GET"]),
        Route("/v1/embeddings", openai_routes.embeddings, methods=["POST"]),
        Route("/healthz", health_routes.healthz, methods=["GET"]),
        Route("/readyz", health_routes.readyz, methods=["GET"]),
        Route("/metrics", health_routes.metrics, methods=["GET"]),
    ]


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        err: InterlockError = ModelNotFound(f"No route {request.method} {request.url.path} on this gateway.", code="not_found")
    else:
        err = InvalidRequest(f"{request.method} is not allowed on {request.url.path}.", code="method_not_allowed")
        err.status = exc.status_code  # type: ignore[misc]
    return openai_error(err)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", extra={"fields": {"path": request.url.path}})
    return openai_error(InterlockError("The gateway hit an internal error; it has been logged.", code="internal_error"))


def build_app(runtime: Runtime, say: Callable[[str], None] = lambda _m: None) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await runtime.start(say)
        try:
            yield
        finally:
            await runtime.aclose()

    app = Starlette(
        routes=_routes(),
        middleware=[Middleware(RequestIdMiddleware)],
        exception_handlers={HTTPException: _http_error, Exception: _unexpected},
        lifespan=lifespan,
    )
    app.state.interlock = AppState(runtime=runtime, gateway=Gateway(runtime))
    return app
