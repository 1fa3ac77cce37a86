"""The HTTP boundary: what it sends, and how it maps what comes back onto the error tree."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from resilience.fakes import completion
from resilience.faulty_upstream import FaultyUpstream

from interlock.config.deployments import OpenAIDeployment
from interlock.errors import InvalidRequest, UpstreamMalformed
from interlock.providers.base import ChatRequest
from interlock.providers.openai_compat import OpenAICompatProvider
from interlock.resilience.breaker import BreakerState
from interlock.resilience.registry import DeploymentRegistry


@pytest.fixture
async def upstream() -> AsyncIterator[FaultyUpstream]:
    server = FaultyUpstream()
    await server.start()
    yield server
    await server.stop()


def _nested(levels: int) -> Any:
    value: Any = "deep"
    for _ in range(levels):
        value = [value]
    return value


def _provider(url: str) -> OpenAICompatProvider:
    return OpenAICompatProvider(OpenAIDeployment(
        type="openai", name="local", model="chat", vendor="test", perimeter="internal", context_window=4096,
        base_url=url + "/v1", upstream_model="ok", price={"type": "unknown"}))


@pytest.mark.parametrize("value", [_nested(300), 2**70])
async def test_an_unencodable_body_is_a_client_error_that_never_opens_the_breaker(
    upstream: FaultyUpstream, value: Any
) -> None:
    registry = DeploymentRegistry(rng=random.Random(0))
    registry.add("local", _provider(upstream.url))
    request = ChatRequest(body={"messages": [{"role": "user", "content": "hi"}], "metadata": {"x": value}})
    try:
        for stream in (False, True) * 4:  # more than the breaker's consecutive-failure threshold
            chain = registry.chain(["local"])
            with pytest.raises(InvalidRequest, match="cannot be encoded"):
                if stream:
                    async for _ in chain.stream(request):
                        pass
                else:
                    await chain.complete(request)
        assert registry.breaker("local").state is BreakerState.CLOSED
        assert registry.health("local").snapshot().errors == 0
        assert upstream.requests == []  # nothing was sent
    finally:
        await registry.aclose()


@pytest.mark.parametrize(("fault", "stream", "message"), [
    ("fault=malformed", False, r"sent a body that is not JSON \(application/json\)"),
    ("fault=wrong_type", False, r"sent a body that is not JSON \(text/html\)"),
    ("fault=wrong_type", True, r"answered a stream request with text/html, not text/event-stream"),
])
async def test_an_answer_of_the_wrong_shape_is_malformed_and_says_what_came(
    upstream: FaultyUpstream, fault: str, stream: bool, message: str
) -> None:
    provider = OpenAICompatProvider(OpenAIDeployment(
        type="openai", name="local", model="chat", vendor="test", perimeter="internal", context_window=4096,
        base_url=upstream.url + "/v1", upstream_model=fault, price={"type": "unknown"}))
    request = ChatRequest(body={"messages": [{"role": "user", "content": "hi"}]})
    try:
        with pytest.raises(UpstreamMalformed, match=message):
            if stream:
                async for _ in provider.stream(request):
                    pass
            else:
                await provider.complete(request)
    finally:
        await provider.aclose()
    assert upstream.requests == [(fault, stream)]


async def test_cookies_an_upstream_sets_are_never_sent_back_on_later_requests() -> None:
    """The pooled session is shared by every caller: a cookie set while serving one (a session, a
    sticky-routing token) would otherwise ride along on the next caller's request."""
    cookies_seen: list[str | None] = []

    async def chat(request: web.Request) -> web.Response:
        cookies_seen.append(request.headers.get("cookie"))
        response = web.json_response(completion("chat"))
        response.set_cookie("session", "first-caller")
        return response

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    # credentials in the URL take the pooled aiohttp session (as https:// does); a host name, not an IP
    # address, is where a cookie jar keeps cookies
    provider = _provider(f"http://user:secret@localhost:{port}")
    try:
        for _ in range(3):
            await provider.complete(ChatRequest(body={"messages": [{"role": "user", "content": "hi"}]}))
    finally:
        await provider.aclose()
        await runner.cleanup()
    assert cookies_seen == [None, None, None]
