"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response

from interlock.api.rendering import json_response


async def healthz(request: Request) -> Response:
    return json_response({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Ready once started and at least one route has a deployment passing preflight; else 503 naming
    what is missing (key variables, unreachable hosts, models not loaded)."""
    runtime = request.app.state.interlock.runtime
    if not runtime.ready:
        return json_response({"status": "loading"}, status=503)
    preflight = (await runtime.preflight.report()).to_dict()
    ready = preflight.pop("ready")
    body = {"status": "ready" if ready else "unservable", "config_hash": runtime.config_hash,
            "models": len(runtime.catalog.models), **preflight}
    return json_response(body, status=200 if ready else 503)


async def metrics(request: Request) -> Response:
    runtime = request.app.state.interlock.runtime
    return Response(runtime.metrics.render(), media_type=CONTENT_TYPE_LATEST)
