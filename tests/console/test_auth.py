"""Console sessions: signed, expiring, tied to the admin key; CSRF needs the token and this origin."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response

from interlock.console import auth

KEY = "admin-key-for-auth-tests"


def request(headers: dict[str, str] | None = None, cookie: str | None = None) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    if cookie is not None:
        raw.append((b"cookie", f"{auth.COOKIE}={cookie}".encode()))
    raw.append((b"host", b"gw.example:8080"))
    return Request({"type": "http", "method": "POST", "path": "/console/api/keys", "headers": raw,
                    "scheme": "http", "server": ("gw.example", 8080), "query_string": b""})


def cookie_value(now: float | None = None) -> str:
    response = Response()
    auth.issue_cookie(response, request(), KEY, now=now)
    header = response.headers["set-cookie"]
    assert "httponly" in header.lower() and "samesite=strict" in header.lower()
    return header.split(";", 1)[0].split("=", 1)[1]


def test_a_signed_cookie_opens_a_session_and_a_tampered_or_expired_one_does_not() -> None:
    value = cookie_value()
    session = auth.session_of(request(cookie=value), KEY)
    assert session is not None and session.csrf_token == auth.csrf_token(KEY, session.nonce)
    expires, nonce, mac = value.split(".")
    assert auth.session_of(request(cookie=f"{int(expires) + 999}.{nonce}.{mac}"), KEY) is None
    assert auth.session_of(request(cookie=f"{expires}.other.{mac}"), KEY) is None
    assert auth.session_of(request(cookie=value), "a-new-admin-key") is None  # a key change signs out
    old = cookie_value(now=time.time() - auth.SESSION_S - 10)
    assert auth.session_of(request(cookie=old), KEY) is None
    assert auth.session_of(request(cookie="garbage"), KEY) is None


def test_bearer_admin_key_is_a_session_without_csrf() -> None:
    assert auth.session_of(request({"authorization": f"Bearer {KEY}"}), KEY) is not None
    assert auth.session_of(request({"authorization": "Bearer nope"}), KEY) is None
    bearer = auth.session_of(request({"authorization": f"Bearer {KEY}"}), KEY)
    assert bearer is not None and auth.csrf_ok(request({"origin": "https://evil.example"}), bearer)


def test_csrf_needs_the_token_and_this_origin() -> None:
    session = auth.session_of(request(cookie=cookie_value()), KEY)
    assert session is not None
    token = {auth.CSRF_HEADER: session.csrf_token}
    assert auth.csrf_ok(request(token), session)  # no Origin: not a browser's cross-site request
    assert auth.csrf_ok(request({**token, "origin": "http://gw.example:8080"}), session)
    assert not auth.csrf_ok(request({**token, "origin": "https://evil.example"}), session)
    assert not auth.csrf_ok(request({**token, "origin": "null"}), session)
    assert not auth.csrf_ok(request({auth.CSRF_HEADER: "forged"}), session)
    assert not auth.csrf_ok(request(), session)
    proxied = {**token, "origin": "https://console.example", "x-forwarded-host": "console.example"}
    assert auth.csrf_ok(request(proxied), session)
