"""Console sign-in: the admin key, exchanged once for a signed session cookie, and CSRF checks.

The cookie is ``<expiry>.<nonce>.<mac>``, an HMAC-SHA256 under a key derived from the admin key
(so changing the admin key signs every session out). It is HttpOnly and SameSite=Strict. A
state-changing request must carry ``x-csrf-token`` (an HMAC of the session's nonce, put in each
page) and, when the browser sends one, an ``Origin`` of this host. Scripts may instead send the
admin key as ``Authorization: Bearer <key>``; those requests carry no cookie and need no token.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

COOKIE = "interlock_console"
SESSION_S = 8 * 3600
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True, slots=True)
class Session:
    nonce: str
    csrf_token: str
    bearer: bool = False


def admin_key(request: Request) -> tuple[str, str | None]:
    """(name of the variable, its value or None when the console is disabled)."""
    env = request.app.state.interlock.runtime.config.server.admin_key_env
    return env, os.environ.get(env) or None


def _signing_key(key: str) -> bytes:
    return hashlib.sha256(b"interlock-console-session\n" + key.encode()).digest()


def _mac(key: str, message: str) -> str:
    return hmac.new(_signing_key(key), message.encode(), hashlib.sha256).hexdigest()


def csrf_token(key: str, nonce: str) -> str:
    return _mac(key, f"csrf:{nonce}")


def issue_cookie(response: Response, request: Request, key: str, *, now: float | None = None) -> None:
    expires = int((now or time.time()) + SESSION_S)
    nonce = secrets.token_urlsafe(16)
    value = f"{expires}.{nonce}.{_mac(key, f'{expires}.{nonce}')}"
    response.set_cookie(
        COOKIE,
        value,
        max_age=SESSION_S,
        path="/console",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def clear_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/console", httponly=True, samesite="strict")


def session_of(request: Request, key: str, *, now: float | None = None) -> Session | None:
    """The signed-in session (cookie or bearer admin key), or None."""
    presented = (request.headers.get("authorization") or "").removeprefix("Bearer ").strip()
    if presented:
        ok = hmac.compare_digest(presented.encode(), key.encode())
        return Session("", "", bearer=True) if ok else None
    parts = (request.cookies.get(COOKIE) or "").split(".")
    if len(parts) != 3 or not parts[0].isdigit():
        return None
    expires, nonce, mac = parts
    if not hmac.compare_digest(mac, _mac(key, f"{expires}.{nonce}")) or int(expires) < (now or time.time()):
        return None
    return Session(nonce, csrf_token(key, nonce))


def same_origin(request: Request) -> bool:
    """A browser's Origin (when it sends one) names this host; a cross-site form post does not."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    # Behind a reverse proxy the Host may be the internal one; a browser cannot forge either header.
    hosts = {request.headers.get("host", ""), request.headers.get("x-forwarded-host", "")} - {""}
    return origin.split("://", 1)[-1] in hosts


def csrf_ok(request: Request, session: Session) -> bool:
    if session.bearer:
        return True
    token = request.headers.get(CSRF_HEADER, "")
    return same_origin(request) and hmac.compare_digest(token.encode(), session.csrf_token.encode())


def login_ok(presented: str, key: str) -> bool:
    return bool(presented) and hmac.compare_digest(presented.encode(), key.encode())
