"""Mapping upstream HTTP outcomes onto the error tree, from status codes and structured bodies only."""

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
    return UpstreamHTTPError(message, upstream_status=status, body=body, deployment=deployment, retry_after=retry_after)
