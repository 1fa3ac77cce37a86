"""Reading a JSON request body within the configured size and nesting limits."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.types import Receive

from interlock.api.disconnect import ClientDisconnected
from interlock.errors import InvalidRequest, PayloadTooLarge

# No real request nests this deep (a tool's JSON Schema rarely passes 20 levels). Deeper bodies are
# refused here: past 254 levels no upstream body can even be serialized, and a failure that late
# would be blamed on the deployment.
MAX_NESTING = 128


async def read_json(receive: Receive, declared: str | None, limit: int) -> Any:
    """The body of the request on ``receive``, parsed; ``declared`` is its Content-Length header, if any."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The request body is {int(declared)} bytes; this gateway accepts at most {limit}.")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # http.disconnect
            raise ClientDisconnected("The client closed the connection before sending the whole body.")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The request body exceeds this gateway's limit of {limit} bytes.")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    raw = b"".join(chunks)
    if not raw.strip():
        raise InvalidRequest("The request body is empty; send a JSON object.")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(
            f"We could not parse the JSON body of your request ({exc.msg} at position {exc.pos}). "
            "Send a valid JSON object with `Content-Type: application/json`.",
            code="invalid_json",
        ) from None
    # A body with no more opening brackets than the limit cannot nest deeper: skip the walk (brackets
    # inside strings only make the count larger, so the shortcut never lets a deep body through).
    if raw.count(b"{") + raw.count(b"[") > MAX_NESTING:
        check_nesting(data)
    return data


def check_nesting(data: Any, limit: int = MAX_NESTING) -> None:
    """Raise ``InvalidRequest`` when arrays and objects nest more than ``limit`` levels deep."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            raise InvalidRequest(
                f"The request body nests arrays and objects more than {limit} levels deep.",
                code="nesting_too_deep",
            )
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, (dict, list)))
