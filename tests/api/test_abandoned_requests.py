"""A client that gives up on a hanging upstream: the gateway cancels the upstream call at once.

Non-streaming and streaming before the first chunk (mid-stream is in test_stream_disconnect.py):
the upstream connection is closed, the request is recorded as 499 and nothing stays in flight.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit

import orjson
import pytest
from gateway_harness import openai_deployment, running_gateway
from servers import serve_in_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from interlock.gateway.runtime import Runtime


class HangingUpstream:
    """Sends its headers, then never a byte of body; notes each request and each hang-up."""

    def __init__(self) -> None:
        self.arrived = threading.Semaphore(0)
        self.hung_up = threading.Semaphore(0)
        self.app = Starlette(routes=[Route("/v1/chat/completions", self.chat, methods=["POST"])])

    async def chat(self, request: Request) -> StreamingResponse:
        body = orjson.loads(await request.body())
        self.arrived.release()
        kind = "text/event-stream" if body.get("stream") else "application/json"
        return StreamingResponse(self._never(), media_type=kind)

    async def _never(self) -> AsyncIterator[bytes]:
        try:
            await asyncio.sleep(3600)
            yield b""
        finally:
            self.hung_up.release()  # the gateway closed the connection


@pytest.fixture(scope="module")
def hanging() -> Iterator[tuple[str, Runtime, HangingUpstream]]:
    upstream = HangingUpstream()
    deployment = openai_deployment("hang", "", timeouts={"total": 600})
    with serve_in_thread(upstream.app) as up:
        deployment["base_url"] = up + "/v1"
        with running_gateway({"deployments": [deployment]}) as (url, runtime):
            yield url, runtime, upstream


def _send_and_leave(url: str, body: dict[str, object], upstream: HangingUpstream) -> None:
    """POST with a raw socket, wait until the upstream has the request, then close the connection."""
    where = urlsplit(url)
    payload = orjson.dumps(body)
    head = (f"POST /v1/chat/completions HTTP/1.1\r\nhost: {where.netloc}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(payload)}\r\n\r\n").encode()
    with socket.create_connection((where.hostname, where.port), timeout=10) as sock:
        sock.sendall(head + payload)
        assert upstream.arrived.acquire(timeout=10), "the request never reached the upstream"


def _settled(runtime: Runtime) -> bool:
    health = runtime.resilience.health("hang")
    return runtime.in_flight == 0 and health.in_flight == 0


@pytest.mark.parametrize("stream", [False, True])
def test_a_client_leaving_cancels_the_upstream_call(
    hanging: tuple[str, Runtime, HangingUpstream], stream: bool
) -> None:
    url, runtime, upstream = hanging
    body = {"model": "hang", "messages": [{"role": "user", "content": "hi"}], "stream": stream}
    _send_and_leave(url, body, upstream)
    # the upstream would hang for an hour: the gateway must hang up on it as soon as the client is gone
    assert upstream.hung_up.acquire(timeout=5), "the upstream call outlived its client"
    deadline = time.monotonic() + 5
    while not _settled(runtime):
        assert time.monotonic() < deadline, "the abandoned request is still counted in flight"
        time.sleep(0.02)
    assert runtime.resilience.breaker("hang").state.value == "closed"  # leaving is no verdict on the upstream
    snapshot = runtime.resilience.health("hang").snapshot()
    assert snapshot.errors == 0


def test_many_abandoned_requests_leave_nothing_behind(hanging: tuple[str, Runtime, HangingUpstream]) -> None:
    url, runtime, upstream = hanging
    for i in range(20):
        body = {"model": "hang", "messages": [{"role": "user", "content": f"try {i}"}], "stream": i % 2 == 1}
        _send_and_leave(url, body, upstream)
    for _ in range(20):
        assert upstream.hung_up.acquire(timeout=5)
    deadline = time.monotonic() + 5
    while not _settled(runtime):
        assert time.monotonic() < deadline
        time.sleep(0.02)
