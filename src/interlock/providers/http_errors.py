"""Mapping upstream HTTP outcomes onto the error tree, from status codes and structured bodies only.

Bodies in OpenAI's shape (``{"error": {"message", "type"}}``) and Anthropic's
(``{"type": "error", "error": {"type", "message"}}``) both carry ``error.message``.
"""

from __future__ import annotations

import email.utils
import time
from typing import Any

import orjson

from interlock.errors import UpstreamHTTPError


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def error_from_response(deployment: str, status: int, raw: bytes, headers: Any) -> UpstreamHTTPError:
    """Build the error for a non-2xx upstream answer; keeps the upstream's structured message."""
    body: Any = None
    detail = ""
    try:
        body = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            detail = str(err.get("message") or err.get("type") or "")
        elif isinstance(err, str):
            detail = err
        elif "message" in body:
            detail = str(body["message"])
    message = f"Upstream deployment {deployment!r} answered HTTP {status}"
    if detail:
        message += f": {detail[:500]}"
    retry_after = parse_retry_after(headers.get("retry-after")) if headers is not None else None
    return _http_error(deployment, status, message, body, retry_after)


# Anthropic's status for "overloaded": a temporary condition, so another attempt may succeed.
ANTHROPIC_OVERLOADED = 529
# The status each Anthropic error ``type`` comes with, for errors that arrive as stream events.
ANTHROPIC_ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": ANTHROPIC_OVERLOADED,
}


def error_from_stream_event(deployment: str, data: Any) -> UpstreamHTTPError:
    """An Anthropic ``error`` event inside a stream, mapped as if it had come with its HTTP status."""
    err = data.get("error") if isinstance(data, dict) else None
    err = err if isinstance(err, dict) else {}
    kind = str(err.get("type") or "")
    message = f"Upstream deployment {deployment!r} reported {kind or 'an error'} mid-stream"
    if err.get("message"):
        message += f": {str(err['message'])[:500]}"
    return _http_error(deployment, ANTHROPIC_ERROR_STATUS.get(kind, 500), message, data, None)


def _http_error(
    deployment: str, status: int, message: str, body: Any, retry_after: float | None
) -> UpstreamHTTPError:
    error = UpstreamHTTPError(
        message, upstream_status=status, body=body, deployment=deployment, retry_after=retry_after
    )
    if status == ANTHROPIC_OVERLOADED:
        error.retryable = True
    return error
