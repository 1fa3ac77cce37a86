"""The ASGI app the server runs: the API's POST routes straight to their handlers, the rest to Starlette.

The chat, messages and embeddings routes carry nearly all traffic. They need only a request id,
a last-resort 500 in the route's own format, and their handler: ``Front`` gives them exactly that
in one frame, without the framework's router, exception middleware and ``Request`` objects
(measured in ``benchmarks/gateway_overhead``). Every other path, method and scope (lifespan, the
console, admin, health, metrics, a 404) goes to the Starlette app with its middleware, which
gives them the same request id and the same shield.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.datastructures import State
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from interlock.api.exchange import Exchange
from interlock.api.middleware import request_ids
from interlock.api.rendering import error_for_path
from interlock.api.state import AppState
from interlock.errors import InvalidRequest
from interlock.observability.unexpected import internal_error

Handler = Callable[[Exchange], Awaitable[Response]]


class Front:
    """``routes`` maps a path to the handler of its POSTs; any other method there is a 405."""

    def __init__(self, app: ASGIApp, state: State, interlock: AppState, routes: Mapping[str, Handler]) -> None:
        self.app, self.state, self.interlock = app, state, interlock
        self.routes = dict(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            root = scope.get("root_path")
            if root and path.startswith(root):
                path = path[len(root):]
            handler = self.routes.get(path)
            if handler is not None:
                await self._serve(handler, path, scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _serve(self, handler: Handler, path: str, scope: Scope, receive: Receive, send: Send) -> None:
        rid, upstream = request_ids(scope["headers"])
        id_header = (b"x-request-id", rid)
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", ()), id_header]
            await send(message)

        try:
            if scope["method"] == "POST":
                response = await handler(Exchange(scope, receive, self.interlock, rid.decode(), upstream.decode()))
            else:
                response = _not_allowed(scope["method"], path)
            await response(scope, receive, send_with_id)
        except Exception as exc:  # the last line of defence, as ``UnexpectedErrorShield`` for other routes
            error = internal_error(exc, path)
            if not started:  # once the answer has begun there is nothing left to say
                await error_for_path(path, error)(scope, receive, send_with_id)


def _not_allowed(method: str, path: str) -> Response:
    err = InvalidRequest(f"{method} is not allowed on {path}.", code="method_not_allowed")
    err.status = 405  # type: ignore[misc]
    response = error_for_path(path, err)
    response.headers["allow"] = "POST"
    return response
