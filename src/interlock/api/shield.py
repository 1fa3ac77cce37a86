"""The last line of defence: an error no handler expected becomes a 500 in the route's own format.

Pure ASGI. Unlike Starlette's ``ServerErrorMiddleware``, it does not re-raise after answering, so
the server keeps the client's connection open (a re-raise makes uvicorn drop it: clients saw a reset).
The log line names the exception type and where it was raised, never its message (``unexpected``).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from interlock.api.rendering import error_for_path
from interlock.observability.unexpected import internal_error


class UnexpectedErrorShield:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception as exc:
            error = internal_error(exc, scope["path"])
            if not started:  # once the answer has begun there is nothing left to say
                await error_for_path(scope["path"], error)(scope, receive, send)
