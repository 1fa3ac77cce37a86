"""A config reload while a request is still arriving: the old runtime stays open until it is answered.

The request's body is sent in two halves around a reload, so the handler is already waiting when
the new runtime takes over; it must be counted in flight before its first await, or the old
runtime is drained at once and closed under it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import orjson
import pytest
import uvicorn
from gateway_harness import openai_deployment, with_test_defaults
from servers import free_port

from interlock.api.app import build_app
from interlock.api.state import AppState
from interlock.config.load import config_from_object
from interlock.config.schema import GatewayConfig
from interlock.gateway.runtime import Runtime


def _loaded(upstream_url: str, tmp: str, model: str) -> object:
    config = with_test_defaults({"deployments": [openai_deployment("echo", upstream_url, model=model)]}, tmp)
    return config_from_object(GatewayConfig.model_validate(config), source="<test>")


@pytest.fixture
async def gateway(openai_upstream, tmp_path) -> AsyncIterator[tuple[int, AppState]]:
    _, upstream_url = openai_upstream
    runtime = Runtime(_loaded(upstream_url, str(tmp_path), "m"))  # type: ignore[arg-type]
    app = build_app(runtime)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield port, app.state.interlock
    finally:
        server.should_exit = True
        await task


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, object]]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    lines = head.split(b"\r\n")
    length = next(int(line.split(b":")[1]) for line in lines if line.lower().startswith(b"content-length"))
    return status, orjson.loads(await reader.readexactly(length))


@pytest.mark.parametrize("stream", [False, True])
async def test_a_reload_does_not_close_the_runtime_under_a_request(
    gateway: tuple[int, AppState], openai_upstream, tmp_path, stream: bool
) -> None:
    port, state = gateway
    old = state.runtime
    payload = orjson.dumps({"model": "m", "messages": [{"role": "user", "content": "across a reload"}],
                            "stream": stream})
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\n"
                 b"content-length: %d\r\n\r\n" % len(payload) + payload[:20])
    await writer.drain()
    await asyncio.sleep(0.2)  # the handler is now reading the body

    _, upstream_url = openai_upstream
    state.switch.apply(_loaded(upstream_url, str(tmp_path / "new"), "m"))  # type: ignore[arg-type]
    await asyncio.wait_for(state.switch.switched.wait(), 30)
    await asyncio.sleep(0.2)  # time for a drain that does not wait to close the old runtime
    assert state.runtime is not old

    writer.write(payload[20:])
    await writer.drain()
    if stream:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert b" 200 " in head.split(b"\r\n")[0]
        rest = await asyncio.wait_for(reader.readuntil(b"data: [DONE]"), 10)
        assert b"across" in rest and b"reload" in rest and b"\"error\"" not in rest
    else:
        status, body = await asyncio.wait_for(_read_response(reader), 10)
        assert status == 200, body
        assert body["choices"][0]["message"]["content"] == "echo: across a reload"  # type: ignore[index]
    writer.close()
    for _ in range(200):  # the old runtime closes once its last request is recorded
        if old.in_flight == 0 and not state.switch._tasks:
            break
        await asyncio.sleep(0.02)
    assert old.in_flight == 0 and not state.switch._tasks
