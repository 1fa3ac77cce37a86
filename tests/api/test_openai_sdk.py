"""End to end: the official openai SDK (sync and async, streaming and not) against a running gateway."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest
from gateway_harness import openai_deployment, running_gateway


@pytest.fixture(scope="module")
def gateway(openai_upstream) -> Iterator[str]:
    _, up = openai_upstream
    config = {
        "deployments": [
            openai_deployment("frontier-a", up, model="frontier", upstream_model="echo-model"),
            openai_deployment("small", up, model="small", capabilities={"tools": False}),
        ],
        "aliases": [{"name": "default-chat", "target": "frontier"}],
    }
    with running_gateway(config) as (url, _runtime):
        yield url


def _client(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0)


def test_sync_completion_reports_what_served_it(gateway: str, openai_upstream) -> None:
    upstream, _ = openai_upstream
    raw = _client(gateway).chat.completions.with_raw_response.create(
        model="frontier", messages=[{"role": "user", "content": "hello there"}], temperature=0.2, seed=7,
        max_completion_tokens=20, user="u1", metadata={"team": "ops"},
    )
    resp = raw.parse()
    assert resp.choices[0].message.content == "echo: hello there"
    assert resp.model == "frontier"
    assert resp.usage is not None and resp.usage.completion_tokens == 3
    assert raw.headers["x-interlock-model"] == "frontier"
    assert raw.headers["x-interlock-deployment"] == "frontier-a"
    assert raw.headers["x-request-id"]
    sent = upstream.received[-1]
    assert sent["model"] == "echo-model"
    assert sent["temperature"] == 0.2 and sent["seed"] == 7 and sent["max_completion_tokens"] == 20
    assert sent["user"] == "u1" and sent["metadata"] == {"team": "ops"}


def test_alias_resolves_to_its_model(gateway: str) -> None:
    resp = _client(gateway).chat.completions.create(model="default-chat", messages=[{"role": "user", "content": "x"}])
    assert resp.model == "frontier"


def test_sync_stream_with_usage(gateway: str) -> None:
    stream = _client(gateway).chat.completions.create(
        model="frontier", messages=[{"role": "user", "content": "one two three four"}],
        stream=True, stream_options={"include_usage": True},
    )
    text, usage = "", None
    for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
        if chunk.usage:
            usage = chunk.usage
    assert text == "echo: one two three four"
    assert usage is not None and usage.completion_tokens == 5


def test_stream_without_usage_option_sends_no_usage_chunk(gateway: str) -> None:
    chunks = list(_client(gateway).chat.completions.create(
        model="frontier", messages=[{"role": "user", "content": "a b"}], stream=True))
    assert chunks and all(c.usage is None for c in chunks)
    assert all(c.choices for c in chunks)


async def test_async_client_streaming_and_not(gateway: str) -> None:
    client = openai.AsyncOpenAI(base_url=gateway + "/v1", api_key="unused", max_retries=0)
    resp = await client.chat.completions.create(model="frontier", messages=[{"role": "user", "content": "async hi"}])
    assert resp.choices[0].message.content == "echo: async hi"
    stream = await client.chat.completions.create(
        model="frontier", messages=[{"role": "user", "content": "async stream"}], stream=True)
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == "echo: async stream"
    await client.close()


def test_tools_pass_through(gateway: str, openai_upstream) -> None:
    upstream, _ = openai_upstream
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}]
    resp = _client(gateway).chat.completions.create(
        model="frontier", messages=[{"role": "user", "content": "find it"}], tools=tools, tool_choice="auto",
        response_format={"type": "json_object"},
    )
    call = resp.choices[0].message.tool_calls[0]
    assert call.function.name == "lookup"
    assert upstream.received[-1]["tools"] == tools
    assert upstream.received[-1]["tool_choice"] == "auto"
    assert upstream.received[-1]["response_format"] == {"type": "json_object"}


def test_n_choices_where_supported(gateway: str) -> None:
    resp = _client(gateway).chat.completions.create(model="frontier", messages=[{"role": "user", "content": "x"}], n=2)
    assert len(resp.choices) == 2


def test_tools_refused_by_model_without_tool_support(gateway: str) -> None:
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]
    with pytest.raises(openai.BadRequestError) as exc:
        _client(gateway).chat.completions.create(model="small", messages=[{"role": "user", "content": "x"}], tools=tools)
    assert exc.value.body["param"] == "tools"
    assert "does not support tool calling" in exc.value.body["message"]


def test_models_listing_and_embeddings(gateway: str) -> None:
    client = _client(gateway)
    models = {m.id: m for m in client.models.list().data}
    assert {"frontier", "small", "default-chat"} <= set(models)
    entry = models["frontier"].model_dump()
    assert entry["perimeter"] == "external" and entry["context_window"] == 8192 and entry["vendor"] == "test"
    emb = client.embeddings.create(model="frontier", input=["ab", "abcd"])
    assert [d.embedding[0] for d in emb.data] == [2.0, 4.0]
