"""Pure ASGI middleware: a request id on every request and response (no BaseHTTPMiddleware overhead)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from interlock.ids import new_id_bytes

_SAFE_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")


def new_request_id() -> bytes:
    """A new time-ordered id (a version-7 UUID in hex, ``interlock/ids.py``)."""
    return new_id_bytes()


def request_ids(headers: Iterable[tuple[bytes, bytes]]) -> tuple[bytes, bytes]:
    """The request's id (a well-formed incoming ``x-request-id``, else a new one) and the id its
    upstream calls carry (always new: see ``RequestIdMiddleware``)."""
    upstream = new_request_id()
    for name, value in headers:
        if name == b"x-request-id" and _SAFE_ID.match(value):
            return value, upstream
    return upstream, upstream


class RequestIdMiddleware:
    """Takes a well-formed incoming ``x-request-id`` or makes one; stores it in ``scope['state']``.

    A client's id is echoed and logged but never sent upstream: it is client text the compliance
    scan does not see (an SSN fits the pattern), so upstreams get an id the gateway made
    (``upstream_request_id``, logged beside the client's for correlation).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid, upstream = request_ids(scope["headers"])
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = rid.decode()
        state["upstream_request_id"] = upstream.decode()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid)]
            await send(message)

        await self.app(scope, receive, send_with_id)

