"""Building the ASGI app: routes, middleware, error handlers and the runtime's lifespan."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from interlock import console
from interlock.api import admin_routes, anthropic_routes, health_routes, openai_routes
from interlock.api.front import Front, Handler
from interlock.api.middleware import RequestIdMiddleware
from interlock.api.rendering import error_for_path
from interlock.api.shield import UnexpectedErrorShield
from interlock.api.state import AppState
from interlock.config.history import ConfigHistory
from interlock.config.reload import ConfigReloader
from interlock.config.switch import RuntimeSwitch
from interlock.errors import InterlockError, InvalidRequest, ModelNotFound
from interlock.gateway.runtime import Runtime
from interlock.versions.migrations import open_versions_database

# The API's POST routes: served by ``Front`` ahead of the framework's middleware (see ``api/front.py``).
API_ROUTES: dict[str, Handler] = {
    "/v1/chat/completions": openai_routes.chat_completions,
    "/v1/embeddings": openai_routes.embeddings,
    "/v1/messages": anthropic_routes.messages,
}


def _routes() -> list[BaseRoute]:
    return [
        Route("/v1/models", openai_routes.list_models, methods=["GET"]),
        Route("/v1/models/{model:path}", openai_routes.get_model, methods=["GET"]),
        Route("/healthz", health_routes.healthz, methods=["GET"]),
        Route("/readyz", health_routes.readyz, methods=["GET"]),
        Route("/metrics", health_routes.metrics, methods=["GET"]),
        Route("/admin/deployments", admin_routes.deployments, methods=["GET"]),
        Route("/admin/reload", admin_routes.reload, methods=["POST"]),
        Route("/admin/config", admin_routes.config, methods=["GET"]),
        console.mount(),  # /console: the web console (a Mount, not a Route)
    ]


async def _http_error(request: Request, exc: Exception) -> Response:
    """No such route or method: answered in the format of the API the path belongs to."""
    assert isinstance(exc, HTTPException)
    path = request.url.path
    if exc.status_code == 404:
        err: InterlockError = ModelNotFound(f"No route {request.method} {path} on this gateway.", code="not_found")
    else:
        err = InvalidRequest(f"{request.method} is not allowed on {path}.", code="method_not_allowed")
        err.status = exc.status_code  # type: ignore[misc]
    response = error_for_path(path, err)
    if exc.headers:
        response.headers.update(exc.headers)  # Allow, on a 405
    return response


def build_app(
    runtime: Runtime,
    say: Callable[[str], None] = lambda _m: None,
    config_path: str | Path | None = None,
    ready_message: str | None = None,
) -> Front:
    """The ASGI app. With ``config_path`` the config hot-reloads (file change, SIGHUP, POST /admin/reload)."""
    state = AppState(switch=RuntimeSwitch(runtime, say=say))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            await runtime.start(say)
        except (OSError, ValueError) as exc:  # weights missing or not matching their pin, a bad database URL
            say(f"cannot start: {exc}")
            await runtime.aclose()
            raise
        if config_path is not None:
            state.reloader = _reloader(state, Path(config_path))
        if ready_message:
            latest = runtime.preflight.latest
            # preflight has already said NOT READY (and why) when nothing is servable
            say(ready_message if latest is None or latest.ready else ready_message.replace("Ready:", "Serving, NOT READY (see above):", 1))
        try:
            yield
        finally:
            if state.reloader is not None:
                await state.reloader.aclose()
                if state.reloader.history is not None:
                    state.reloader.history.db.close()
            await state.switch.aclose()

    app = Starlette(
        routes=_routes(),
        middleware=[Middleware(RequestIdMiddleware), Middleware(UnexpectedErrorShield)],
        exception_handlers={HTTPException: _http_error},
        lifespan=lifespan,
    )
    app.state.interlock = state
    return Front(app, app.state, state, API_ROUTES)


def _reloader(state: AppState, path: Path) -> ConfigReloader:
    """Config history lives in its own connection: it outlives every runtime a reload replaces."""
    runtime = state.runtime
    history = ConfigHistory(open_versions_database(runtime.metering.database_url))
    reloader = ConfigReloader(path, state.switch.apply, current=runtime.loaded, history=history)
    reloader.record_current()
    reloader.install_sighup()
    reloader.start_watching()
    return reloader
