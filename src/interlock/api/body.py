"""Reading a JSON request body within the configured size limit."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request

from interlock.errors import InvalidRequest, PayloadTooLarge


async def read_json(request: Request, limit: int) -> Any:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The request body is {int(declared)} bytes; this gateway accepts at most {limit}.")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"The request body exceeds this gateway's limit of {limit} bytes.")
            chunks.append(chunk)
    except ClientDisconnect:
        raise InvalidRequest("The client closed the connection before sending the whole body.") from None
    raw = b"".join(chunks)
    if not raw.strip():
        raise InvalidRequest("The request body is empty; send a JSON object.")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(
            f"We could not parse the JSON body of your request ({exc.msg} at position {exc.pos}). "
            "Send a valid JSON object with `Content-Type: application/json`.",
            code="invalid_json",
        ) from None
