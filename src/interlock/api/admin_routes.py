"""Admin endpoints: deployment health and breakers, the active config, reloading it.

They always require the admin key (the environment variable named by ``server.admin_key_env``,
``INTERLOCK_ADMIN_KEY`` by default) as ``Authorization: Bearer <key>``, whether or not the gateway
requires API keys of its clients: without that variable they answer 403 saying how to enable them.
"""

from __future__ import annotations

import hmac
import os
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from interlock.api.rendering import json_response, openai_error
from interlock.api.state import AppState
from interlock.errors import AuthenticationFailed, InterlockError, PermissionDenied
from interlock.resilience.registry import DeploymentStatus


def disabled_message(admin_key_env: str) -> str:
    return (f"Admin endpoints are disabled: set {admin_key_env} in the gateway's environment to a secret "
            "and send it as 'Authorization: Bearer <key>'.")


def _guard(request: Request) -> AppState:
    state: AppState = request.app.state.interlock
    server = state.runtime.config.server
    expected = os.environ.get(server.admin_key_env)
    if not expected:
        raise PermissionDenied(disabled_message(server.admin_key_env), code="admin_disabled")
    presented = (request.headers.get("authorization") or "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(presented.encode(), expected.encode()):
        raise AuthenticationFailed("This endpoint needs the admin key as 'Authorization: Bearer <key>'.")
    return state


async def deployments(request: Request) -> Response:
    try:
        runtime = _guard(request).runtime
    except InterlockError as exc:
        return openai_error(exc)
    preflight = await runtime.preflight.report()

    def with_preflight(status: DeploymentStatus) -> dict[str, Any]:
        check = preflight.check_of(status.health.deployment)
        return {**status.to_dict(), "preflight": check.to_dict() if check else None}

    return json_response({"config_hash": runtime.config_hash, "ready": preflight.ready,
                          "deployments": [with_preflight(s) for s in runtime.resilience.snapshot()]})


async def config(request: Request) -> Response:
    try:
        state = _guard(request)
    except InterlockError as exc:
        return openai_error(exc)
    runtime = state.runtime
    history = state.reloader.history.list() if state.reloader and state.reloader.history else []
    return json_response({
        "config_hash": runtime.config_hash, "source": runtime.loaded.source,
        "history": [{"hash": h.hash, "applied_at": h.applied_at.isoformat(), "reason": h.reason} for h in history[:20]],
    })


async def reload(request: Request) -> Response:
    """Validate and apply the config file again; an invalid file is rejected (422) and the old config stays."""
    try:
        state = _guard(request)
    except InterlockError as exc:
        return openai_error(exc)
    if state.reloader is None:
        return json_response({"status": "unavailable", "errors": ["the gateway runs without a config file"]}, 409)
    outcome = state.reloader.reload("admin")
    return json_response(outcome.to_dict(), 422 if outcome.status == "rejected" else 200)
