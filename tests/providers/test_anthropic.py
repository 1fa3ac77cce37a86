"""The anthropic provider against a real Messages-API server on loopback, alone and behind the gateway."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import openai
import orjson
import pytest
from gateway_harness import running_gateway
from upstreams.anthropic_upstream import anthropic_deployment

from interlock.config.deployments import AnthropicDeployment
from interlock.errors import UpstreamConnectionError, UpstreamError, UpstreamHTTPError
from interlock.providers.anthropic import AnthropicProvider
from interlock.providers.base import ChatRequest

TOOLS = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}]


@pytest.fixture
async def provider(anthropic_upstream) -> AsyncIterator[AnthropicProvider]:
    _, url = anthropic_upstream
    p = AnthropicProvider(AnthropicDeployment.model_validate(anthropic_deployment(
        "claude", url, upstream_model="claude-upstream-id", headers={"anthropic-beta": "test-beta"})))
    yield p
    await p.aclose()


def _request(text: str, **body: Any) -> ChatRequest:
    return ChatRequest(body={"messages": [{"role": "user", "content": text}], **body}, request_id="req-1")


async def _collect(provider: AnthropicProvider, request: ChatRequest) -> list[dict[str, Any]]:
    return [chunk async for chunk in provider.stream(request)]


async def test_completion_sends_anthropic_wire_format(provider: AnthropicProvider, anthropic_upstream) -> None:
    upstream, _ = anthropic_upstream
    body = {"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello"},
                         {"role": "user", "content": "there"}], "temperature": 0.2}
    result = await provider.complete(ChatRequest(body=body, request_id="req-1"))
    assert result["object"] == "chat.completion" and result["model"] == "claude"
    assert result["choices"][0]["message"]["content"] == "echo: hello there"
    assert result["choices"][0]["finish_reason"] == "stop"
    assert result["usage"] == {"prompt_tokens": 4, "completion_tokens": 3, "total_tokens": 7,
                               "prompt_tokens_details": {"cached_tokens": 2}}
    sent, headers = upstream.received[-1], upstream.headers[-1]
    assert sent["model"] == "claude-upstream-id" and sent["max_tokens"] == 256 and sent["system"] == "be brief"
    assert sent["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hello"},
                                                              {"type": "text", "text": "there"}]}]
    assert headers["anthropic-version"] == "2023-06-01" and headers["anthropic-beta"] == "test-beta"
    assert headers["x-request-id"] == "req-1" and "authorization" not in headers


async def test_stop_reasons_become_finish_reasons(provider: AnthropicProvider) -> None:
    cut = await provider.complete(_request("one two three four five", max_tokens=2))
    assert cut["choices"][0]["finish_reason"] == "length"
    assert cut["choices"][0]["message"]["content"] == "echo: one"
    stopped = await provider.complete(_request("alpha STOP beta", stop="STOP"))
    assert stopped["choices"][0]["finish_reason"] == "stop"
    assert stopped["choices"][0]["message"]["content"] == "echo: alpha "


async def test_tool_call_and_tool_result_turn(provider: AnthropicProvider) -> None:
    first = await provider.complete(_request("find cats", tools=TOOLS, tool_choice="auto"))
    choice = first["choices"][0]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] is None
    call = choice["message"]["tool_calls"][0]
    assert call["function"]["name"] == "lookup" and orjson.loads(call["function"]["arguments"]) == {"echo": "find cats"}
    body = {"tools": TOOLS, "messages": [
        {"role": "user", "content": "find cats"}, choice["message"],
        {"role": "tool", "tool_call_id": call["id"], "content": "three cats"}]}
    second = await provider.complete(ChatRequest(body=body))
    assert second["choices"][0]["message"]["content"] == "tool said: three cats"


async def test_stream_text_with_usage(provider: AnthropicProvider) -> None:
    chunks = await _collect(provider, _request("one two three"))
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "echo: one two three"
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 4
    assert {c["model"] for c in chunks} == {"claude"} and len({c["id"] for c in chunks}) == 1


async def test_stream_tool_call(provider: AnthropicProvider) -> None:
    chunks = await _collect(provider, _request("find dogs", tools=TOOLS))
    calls = [t for c in chunks if c["choices"] for t in c["choices"][0]["delta"].get("tool_calls") or ()]
    assert calls[0]["id"] == "toolu_01" and calls[0]["function"]["name"] == "lookup"
    assert orjson.loads("".join(t["function"]["arguments"] for t in calls)) == {"echo": "find dogs"}
    assert {t["index"] for t in calls} == {0}
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "tool_calls"


@pytest.mark.parametrize(("fault", "status", "retryable", "fragment"), [
    ("400", 400, False, "bad parameter foo"),
    ("429", 429, True, "rate limit"),
    ("500", 500, True, "Internal server error"),
    ("529", 529, True, "Overloaded"),
])
async def test_error_bodies_map_onto_the_error_tree(
    provider: AnthropicProvider, fault: str, status: int, retryable: bool, fragment: str
) -> None:
    for attempt in (provider.complete(_request(f"FAULT:{fault}")), _collect(provider, _request(f"FAULT:{fault}"))):
        with pytest.raises(UpstreamHTTPError) as exc:
            await attempt
        err = exc.value
        assert err.upstream_status == status and err.retryable is retryable and err.status == 502
        assert fragment in err.message and "'claude'" in err.message
        assert err.retry_after == (2.0 if fault == "429" else None)


async def test_error_event_mid_stream_is_raised(provider: AnthropicProvider) -> None:
    seen: list[dict[str, Any]] = []
    with pytest.raises(UpstreamHTTPError) as exc:
        async for chunk in provider.stream(_request("FAULT:stream-error a b c d")):
            seen.append(chunk)
    assert seen, "the error arrives after the first chunks"
    assert exc.value.upstream_status == 529 and exc.value.retryable
    assert "overloaded_error mid-stream: Overloaded" in exc.value.message


async def test_stream_cut_mid_way_is_a_connection_error(provider: AnthropicProvider) -> None:
    with pytest.raises(UpstreamConnectionError):
        await _collect(provider, _request("FAULT:cut a b c d e f"))


async def test_slow_answer_is_awaited_within_the_timeouts(provider: AnthropicProvider) -> None:
    result, chunks = await asyncio.gather(provider.complete(_request("FAULT:slow then answer")),
                                          _collect(provider, _request("FAULT:slow then stream")))
    assert result["choices"][0]["message"]["content"] == "echo: FAULT:slow then answer"
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"]).endswith("stream")


async def test_key_comes_from_the_named_environment_variable(anthropic_upstream, monkeypatch) -> None:
    _, url = anthropic_upstream
    for env, value in (("INTERLOCK_TEST_UNSET_KEY", None), ("INTERLOCK_TEST_WRONG_KEY", "sk-wrong")):
        if value:
            monkeypatch.setenv(env, value)
        p = AnthropicProvider(AnthropicDeployment.model_validate(anthropic_deployment("k", url, api_key_env=env)))
        try:
            with pytest.raises(UpstreamError) as exc:
                await p.complete(_request("hi"))
        finally:
            await p.aclose()
        if value is None:
            assert exc.value.code == "upstream_key_missing" and env in exc.value.message
        else:
            assert isinstance(exc.value, UpstreamHTTPError) and exc.value.upstream_status == 401


# ---- the gateway end to end: the official openai SDK as client of an anthropic-type deployment ----


@pytest.fixture(scope="module")
def gateway(anthropic_upstream) -> Iterator[str]:
    _, url = anthropic_upstream
    config = {"deployments": [
        anthropic_deployment("claude-a", url, model="claude"),
        anthropic_deployment("claude-529", url, upstream_model="fault-529"),
        anthropic_deployment("claude-cut", url, upstream_model="fault-cut"),
        anthropic_deployment("claude-slow", url, upstream_model="fault-slow",
                             timeouts={"total": 0.1, "first_token": 0.1}),
    ]}
    with running_gateway(config) as (gateway_url, _runtime):
        yield gateway_url


def _client(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0)


def test_openai_sdk_completion_through_anthropic_deployment(gateway: str) -> None:
    raw = _client(gateway).chat.completions.with_raw_response.create(
        model="claude", messages=[{"role": "system", "content": "sys words"}, {"role": "user", "content": "hi there"}])
    resp = raw.parse()
    assert resp.choices[0].message.content == "echo: hi there" and resp.choices[0].finish_reason == "stop"
    assert resp.model == "claude" and raw.headers["x-interlock-deployment"] == "claude-a"
    assert resp.usage is not None and resp.usage.prompt_tokens == 4
    assert resp.usage.prompt_tokens_details is not None and resp.usage.prompt_tokens_details.cached_tokens == 2


def test_openai_sdk_stream_through_anthropic_deployment(gateway: str) -> None:
    stream = _client(gateway).chat.completions.create(
        model="claude", messages=[{"role": "user", "content": "one two three"}],
        stream=True, stream_options={"include_usage": True})
    text, usage, finish = "", None, None
    for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
            finish = chunk.choices[0].finish_reason or finish
        usage = chunk.usage or usage
    assert text == "echo: one two three" and finish == "stop"
    assert usage is not None and usage.completion_tokens == 4


async def test_openai_async_sdk_tools_through_anthropic_deployment(gateway: str) -> None:
    client = openai.AsyncOpenAI(base_url=gateway + "/v1", api_key="unused", max_retries=0)
    messages: list[Any] = [{"role": "user", "content": "find owls"}]
    resp = await client.chat.completions.create(model="claude", messages=messages, tools=TOOLS)
    call = resp.choices[0].message.tool_calls[0]
    assert resp.choices[0].finish_reason == "tool_calls" and orjson.loads(call.function.arguments) == {"echo": "find owls"}
    messages += [resp.choices[0].message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": call.id, "content": "two owls"}]
    stream = await client.chat.completions.create(model="claude", messages=messages, tools=TOOLS, stream=True)
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == "tool said: two owls"
    stream = await client.chat.completions.create(model="claude", messages=messages[:1], tools=TOOLS, stream=True)
    args = "".join([t.function.arguments or "" async for c in stream if c.choices
                    for t in c.choices[0].delta.tool_calls or ()])
    assert orjson.loads(args) == {"echo": "find owls"}
    await client.close()


def test_upstream_overload_and_cut_stream_reach_the_openai_client(gateway: str) -> None:
    client = _client(gateway)
    with pytest.raises(openai.APIStatusError) as exc:
        client.chat.completions.create(model="claude-529", messages=[{"role": "user", "content": "x"}])
    assert exc.value.status_code == 502 and "Overloaded" in exc.value.message
    with pytest.raises(openai.APIError):
        for _ in client.chat.completions.create(
                model="claude-cut", messages=[{"role": "user", "content": "a b c d e f"}], stream=True):
            pass


def test_slow_upstream_beyond_its_timeouts_is_a_504(gateway: str) -> None:
    client = _client(gateway)
    for stream in (False, True):
        with pytest.raises(openai.APIStatusError) as exc:
            client.chat.completions.create(model="claude-slow", messages=[{"role": "user", "content": "x"}],
                                           stream=stream)
        assert exc.value.status_code == 504 and exc.value.body["code"] == "timeout_total"


def test_parameters_anthropic_cannot_honour_are_a_clear_400(gateway: str) -> None:
    with pytest.raises(openai.BadRequestError) as exc:
        _client(gateway).chat.completions.create(model="claude", messages=[{"role": "user", "content": "x"}],
                                                 temperature=1.7)
    assert exc.value.body["param"] == "temperature"
