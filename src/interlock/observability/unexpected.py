"""Errors nobody expected: logged by type and place only, answered with a generic internal error.

The exception's message is never logged: it may quote the request (prompt text, keys).
"""

from __future__ import annotations

import logging
import traceback

from interlock.errors import InterlockError

log = logging.getLogger("interlock.api")


def internal_error(exc: BaseException, path: str) -> InterlockError:
    """Log ``exc`` without its message and return the error to send in its place."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno} in {frames[-1].name}" if frames else "unknown"
    log.error("unexpected %s at %s", type(exc).__name__, where, extra={"fields": {"path": path}})
    return InterlockError("The gateway hit an internal error; it has been logged.", code="internal_error")
