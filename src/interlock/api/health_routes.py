"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response

from interlock.api.rendering import json_response


async def healthz(request: Request) -> Response:
    return json_response({"status": "ok"})


async def readyz(request: Request) -> Response:
    runtime = request.app.state.interlock.runtime
    if not runtime.ready:
        return json_response({"status": "loading"}, status=503)
    return json_response({"status": "ready", "config_hash": runtime.config_hash, "models": len(runtime.catalog.models)})


async def metrics(request: Request) -> Response:
    runtime = request.app.state.interlock.runtime
    return Response(runtime.metrics.render(), media_type=CONTENT_TYPE_LATEST)
