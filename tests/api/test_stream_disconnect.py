"""A client that leaves mid-stream: the gateway stops reading the upstream at once and records 499."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import orjson
import pytest
from gateway_harness import openai_deployment, running_gateway
from servers import serve_in_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from interlock.gateway.runtime import Runtime


class StallingUpstream:
    """Streams one chunk, then stalls; notes when the gateway hangs up on it."""

    def __init__(self) -> None:
        self.hung_up = threading.Event()
        self.app = Starlette(routes=[Route("/v1/chat/completions", self.chat, methods=["POST"])])

    async def chat(self, request: Request) -> StreamingResponse:
        await request.body()
        return StreamingResponse(self._events(), media_type="text/event-stream")

    async def _events(self) -> AsyncIterator[bytes]:
        chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "m",
                 "choices": [{"index": 0, "delta": {"role": "assistant", "content": "first"}, "finish_reason": None}]}
        try:
            yield b"data: " + orjson.dumps(chunk) + b"\n\n"
            await asyncio.sleep(30)  # a model that has stopped producing tokens
            yield b"data: [DONE]\n\n"
        finally:
            self.hung_up.set()


@pytest.fixture(scope="module")
def stalling() -> Iterator[tuple[str, Runtime, StallingUpstream]]:
    upstream = StallingUpstream()
    with serve_in_thread(upstream.app) as up, running_gateway({"deployments": [openai_deployment("stall", up)]}) as (
        url, runtime
    ):
        yield url, runtime, upstream


def test_client_leaving_mid_stream_closes_upstream_and_records_499(
    stalling: tuple[str, Runtime, StallingUpstream],
) -> None:
    url, runtime, upstream = stalling
    body = {"model": "stall", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    with httpx.Client(timeout=10) as client, client.stream("POST", url + "/v1/chat/completions", json=body) as resp:
        assert resp.status_code == 200
        first = next(resp.iter_lines())
        assert first.startswith("data: ") and "first" in first
    # The client is gone while the upstream is stalled: the gateway must hang up on it, not wait 30 s.
    assert upstream.hung_up.wait(timeout=5)
    labels = {"model": "stall", "deployment": "stall", "endpoint": "chat", "status": "499", "stream": "true"}
    deadline = time.monotonic() + 5
    while runtime.metrics.registry.get_sample_value("interlock_requests_total", labels) != 1.0:
        assert time.monotonic() < deadline, "the abandoned stream was not recorded as 499"
        time.sleep(0.05)
