"""End to end: the official anthropic SDK (sync and async, streaming and not) as a client of a running gateway.

The main deployment is the OpenAI-format upstream, so every request crosses both translations;
one deployment is the Anthropic-format upstream, to show Anthropic clients reach it too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import pytest
from gateway_harness import openai_deployment, running_gateway
from upstreams.anthropic_upstream import anthropic_deployment

PNG = "iVBORw0KGgo="
TOOLS: list[Any] = [{"name": "lookup", "description": "Find a record",
                     "input_schema": {"type": "object", "properties": {"echo": {"type": "string"}}}}]


@pytest.fixture(scope="module")
def gateway(openai_upstream, anthropic_upstream) -> Iterator[str]:
    _, openai_url = openai_upstream
    _, anthropic_url = anthropic_upstream
    caps = {"tools": True, "images": True}
    config = {"deployments": [
        openai_deployment("gpt-echo", openai_url, model="echo", upstream_model="echo-model", capabilities=caps),
        openai_deployment("broken", openai_url, upstream_model="fault-500"),
        openai_deployment("cut", openai_url, upstream_model="fault-cut"),
        anthropic_deployment("claude-a", anthropic_url, model="claude"),
    ]}
    with running_gateway(config) as (url, _runtime):
        yield url


def _client(url: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=url, api_key="sk-ant-client-key", max_retries=0)


def test_message_with_system_prompt(gateway: str, openai_upstream) -> None:
    upstream, _ = openai_upstream
    raw = _client(gateway).messages.with_raw_response.create(
        model="echo", max_tokens=100, system="Be kind.", stop_sequences=["###"], metadata={"user_id": "u-9"},
        messages=[{"role": "user", "content": "hello there"}],
        extra_body={"temperature": 0.4},  # newer SDKs no longer offer it as an argument; the API takes it
    )
    message = raw.parse()
    assert message.type == "message" and message.role == "assistant" and message.model == "echo"
    assert [b.type for b in message.content] == ["text"] and message.content[0].text == "echo: hello there"
    assert message.stop_reason == "end_turn"
    assert message.usage.output_tokens == 3 and message.usage.input_tokens > 0
    assert raw.headers["x-interlock-deployment"] == "gpt-echo" and raw.headers["x-request-id"]
    sent = upstream.received[-1]
    assert sent["model"] == "echo-model" and sent["max_tokens"] == 100 and sent["temperature"] == 0.4
    assert sent["messages"] == [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "hello there"}]
    assert sent["stop"] == ["###"] and sent["user"] == "u-9"


def test_multi_part_content_and_system_blocks(gateway: str, openai_upstream) -> None:
    upstream, _ = openai_upstream
    message = _client(gateway).messages.create(
        model="echo", max_tokens=50,
        system=[{"type": "text", "text": "Rule one."}, {"type": "text", "text": "Rule two."}],
        messages=[{"role": "user", "content": [
            {"type": "text", "text": "describe"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
            {"type": "text", "text": "this"},
        ]}])
    assert message.content[0].text == "echo: describe this"
    system, user = upstream.received[-1]["messages"]
    assert system == {"role": "system", "content": [{"type": "text", "text": "Rule one."},
                                                    {"type": "text", "text": "Rule two."}]}
    assert user["content"][1] == {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}


def test_tool_use_and_tool_result(gateway: str, openai_upstream) -> None:
    upstream, _ = openai_upstream
    client = _client(gateway)
    first = client.messages.create(model="echo", max_tokens=50, tools=TOOLS, tool_choice={"type": "any"},
                                   messages=[{"role": "user", "content": "find it"}])
    assert first.stop_reason == "tool_use"
    call = first.content[0]
    assert call.type == "tool_use" and call.name == "lookup" and call.input == {"echo": "echo: find it"}
    assert upstream.received[-1]["tool_choice"] == "required"
    assert upstream.received[-1]["tools"][0]["function"]["parameters"] == TOOLS[0]["input_schema"]
    client.messages.create(model="echo", max_tokens=50, messages=[
        {"role": "user", "content": "find it"},
        {"role": "assistant", "content": first.content},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "found"},
                                     {"type": "text", "text": "now summarise"}]},
    ])
    sent = upstream.received[-1]["messages"]
    assert sent[1]["tool_calls"][0]["id"] == call.id and sent[1].get("content") is None
    assert sent[2] == {"role": "tool", "tool_call_id": call.id, "content": "found"}
    assert sent[3] == {"role": "user", "content": "now summarise"}


def test_stream_with_sdk_helper(gateway: str) -> None:
    with _client(gateway).messages.stream(
        model="echo", max_tokens=100, messages=[{"role": "user", "content": "one two three"}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "echo: one two three"
    assert final.content[0].text == text and final.stop_reason == "end_turn"
    assert final.usage.output_tokens == 4 and final.usage.input_tokens == 3


def test_stream_event_sequence(gateway: str) -> None:
    resp = httpx.post(gateway + "/v1/messages", headers={"x-api-key": "k", "anthropic-version": "2023-06-01"},
                      json={"model": "echo", "max_tokens": 10, "stream": True,
                            "messages": [{"role": "user", "content": "a b"}]})
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/event-stream")
    names = [line.removeprefix("event: ") for line in resp.text.splitlines() if line.startswith("event: ")]
    assert names[:3] == ["message_start", "ping", "content_block_start"]
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(names[3:-3]) == {"content_block_delta"}


async def test_async_client_streaming_and_not(gateway: str) -> None:
    client = anthropic.AsyncAnthropic(base_url=gateway, api_key="k", max_retries=0)
    message = await client.messages.create(model="echo", max_tokens=20,
                                           messages=[{"role": "user", "content": "async hi"}])
    assert message.content[0].text == "echo: async hi"
    async with client.messages.stream(model="echo", max_tokens=20,
                                      messages=[{"role": "user", "content": "async stream"}]) as stream:
        text = "".join([piece async for piece in stream.text_stream])
        final = await stream.get_final_message()
    assert text == "echo: async stream" and final.stop_reason == "end_turn"
    raw = await client.messages.create(model="echo", max_tokens=20, stream=True,
                                       messages=[{"role": "user", "content": "raw events"}])
    kinds = [event.type async for event in raw]
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    await client.close()


def test_anthropic_client_reaches_an_anthropic_deployment(gateway: str, anthropic_upstream) -> None:
    upstream, _ = anthropic_upstream
    client = _client(gateway)
    message = client.messages.create(model="claude", max_tokens=64, system="sys",
                                     messages=[{"role": "user", "content": "round trip"}])
    assert message.content[0].text == "echo: round trip" and message.model == "claude"
    assert message.usage.cache_read_input_tokens == 1 and message.usage.input_tokens == 2
    assert upstream.received[-1]["system"] == "sys" and upstream.received[-1]["max_tokens"] == 64
    with client.messages.stream(model="claude", max_tokens=64, tools=TOOLS,
                                messages=[{"role": "user", "content": "tool please"}]) as stream:
        final = stream.get_final_message()
    assert final.content[0].type == "tool_use" and final.content[0].input == {"echo": "tool please"}


def _post(url: str, content: bytes) -> httpx.Response:
    return httpx.post(url + "/v1/messages", content=content, headers={"content-type": "application/json"})


@pytest.mark.parametrize(("payload", "status", "kind", "fragment"), [
    (b'{"model": "echo", "messages": [{"role": "user", "content": "x"}]}', 400, "invalid_request_error",
     "max_tokens: Field required"),
    (b'{"model": "nope", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}', 404, "not_found_error",
     "echo"),
    (b"{not json", 400, "invalid_request_error", "could not parse the JSON body"),
    (b'{"model": "echo", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}], "frobnicate": 1}', 400,
     "invalid_request_error", "frobnicate: Extra inputs are not permitted"),
    (b'{"model": "echo", "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "image", '
     b'"source": {"type": "base64"}}]}]}', 400, "invalid_request_error", "messages[0].content[0].source"),
    (b'{"model": "echo", "max_tokens": 5, "system": [{"type": "text"}], "messages": [{"role": "user", '
     b'"content": "x"}]}', 400, "invalid_request_error", "system[0].text: Field required"),
    (b'{"model": "echo", "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "video"}]}]}', 400,
     "invalid_request_error", "messages[0].content[0]"),
    (b'{"model": "echo", "max_tokens": 5, "temperature": 1.5, "messages": [{"role": "user", "content": "x"}]}', 400,
     "invalid_request_error", "temperature"),
    (b'{"model": "broken", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}', 502, "api_error",
     "upstream exploded"),
])
def test_errors_come_in_anthropic_format(gateway: str, payload: bytes, status: int, kind: str, fragment: str) -> None:
    resp = _post(gateway, payload)
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["type"] == "error" and body["error"]["type"] == kind
    assert fragment in body["error"]["message"]


def test_sdk_raises_typed_errors(gateway: str) -> None:
    client = _client(gateway)
    with pytest.raises(anthropic.NotFoundError):
        client.messages.create(model="nope", max_tokens=5, messages=[{"role": "user", "content": "x"}])
    with pytest.raises(anthropic.BadRequestError) as exc:
        client.messages.create(model="echo", max_tokens=5, messages=[{"role": "assistant", "content": [
            {"type": "tool_result", "tool_use_id": "t", "content": "x"}]}])
    assert "cannot hold 'tool_result'" in str(exc.value)
    with pytest.raises(anthropic.InternalServerError) as failed:  # before the first byte: a plain error
        client.messages.create(model="broken", max_tokens=5, stream=True, messages=[{"role": "user", "content": "x"}])
    assert failed.value.status_code == 502 and failed.value.body["error"]["type"] == "api_error"


def test_stream_cut_mid_way_ends_with_error_event(gateway: str) -> None:
    resp = httpx.post(gateway + "/v1/messages", json={
        "model": "cut", "max_tokens": 50, "stream": True, "messages": [{"role": "user", "content": "a b c d e f"}]})
    names = [line.removeprefix("event: ") for line in resp.text.splitlines() if line.startswith("event: ")]
    assert names[0] == "message_start" and names[-1] == "error" and "message_stop" not in names
    with pytest.raises(anthropic.APIError):
        with _client(gateway).messages.stream(model="cut", max_tokens=50,
                                              messages=[{"role": "user", "content": "a b c d e f"}]) as stream:
            stream.get_final_message()
