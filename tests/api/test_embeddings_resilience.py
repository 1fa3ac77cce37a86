"""Embeddings go through the resilience layer: a failing replica falls back to its healthy twin."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import orjson
import pytest
from gateway_harness import openai_deployment, running_gateway
from servers import serve_in_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from interlock.gateway.runtime import Runtime


class EmbeddingsUpstream:
    """Answers ``/v1/embeddings``; the upstream model ``broken`` always fails with a 500."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.app = Starlette(routes=[Route("/v1/embeddings", self.embeddings, methods=["POST"])])

    async def embeddings(self, request: Request) -> Response:
        body = orjson.loads(await request.body())
        self.calls[body["model"]] = self.calls.get(body["model"], 0) + 1
        if body["model"] == "broken":
            error = {"error": {"message": "exploded", "type": "server_error"}}
            return Response(orjson.dumps(error), status_code=500, media_type="application/json")
        data = [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}]
        usage = {"prompt_tokens": 2, "total_tokens": 2}
        return Response(orjson.dumps({"object": "list", "data": data, "model": body["model"], "usage": usage}),
                        media_type="application/json")


@pytest.fixture(scope="module")
def gateway() -> Iterator[tuple[str, Runtime, EmbeddingsUpstream]]:
    upstream = EmbeddingsUpstream()
    with serve_in_thread(upstream.app) as up:
        config = {"deployments": [
            openai_deployment("emb-broken", up, model="emb", upstream_model="broken"),
            openai_deployment("emb-healthy", up, model="emb", upstream_model="healthy"),
        ]}
        with running_gateway(config) as (url, runtime):
            yield url, runtime, upstream


def test_a_failing_replica_falls_back_to_its_healthy_twin(gateway: tuple[str, Runtime, EmbeddingsUpstream]) -> None:
    url, runtime, upstream = gateway
    for _ in range(20):
        resp = httpx.post(url + "/v1/embeddings", json={"model": "emb", "input": ["hello"]}, timeout=10)
        assert resp.status_code == 200, resp.text
        assert resp.json()["data"][0]["embedding"] == [0.1, 0.2] and resp.json()["model"] == "emb"
        assert resp.headers["x-interlock-deployment"] == "emb-healthy"
        if "emb-broken" in resp.headers["x-interlock-attempts"]:
            assert resp.headers["x-interlock-fallback"].startswith("from=emb-broken")
    assert upstream.calls["healthy"] == 20
    assert runtime.resilience.health("emb-broken").snapshot().errors == upstream.calls.get("broken", 0)
