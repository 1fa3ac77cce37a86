"""Rendering responses: JSON bodies, errors in the client's API format, server-sent events."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
from starlette.responses import Response

from interlock.errors import InterlockError

log = logging.getLogger("interlock.api")


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json", headers=headers)


def openai_error(exc: InterlockError, headers: dict[str, str] | None = None) -> Response:
    return json_response(exc.to_openai(), exc.status, {**exc.headers(), **(headers or {})})


def anthropic_error(exc: InterlockError, headers: dict[str, str] | None = None) -> Response:
    return json_response(exc.to_anthropic(), exc.status, {**exc.headers(), **(headers or {})})


def served_by(model: str, deployment: str) -> dict[str, str]:
    return {"x-interlock-model": model, "x-interlock-deployment": deployment}


async def sse_openai(
    chunks: AsyncIterator[dict[str, Any]], on_end: Callable[[InterlockError | None, bool], None]
) -> AsyncIterator[bytes]:
    """OpenAI-style SSE; a failure after the first byte ends with an error event and no ``[DONE]``.

    ``on_end(error, completed)`` runs once at the end; ``completed`` is False when the client left early.
    """
    error: InterlockError | None = None
    completed = False
    try:
        async for chunk in chunks:
            yield b"data: " + orjson.dumps(chunk) + b"\n\n"
        yield b"data: [DONE]\n\n"
        completed = True
    except InterlockError as exc:
        error = exc
        yield b"data: " + orjson.dumps(exc.to_openai()) + b"\n\n"
    except Exception:
        log.exception("stream failed")
        error = InterlockError("The stream failed inside the gateway.", code="internal_error")
        yield b"data: " + orjson.dumps(error.to_openai()) + b"\n\n"
    finally:
        on_end(error, completed or error is not None)
