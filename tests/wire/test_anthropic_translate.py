"""Translation between OpenAI chat completions and Anthropic Messages: requests, responses and streams, both ways."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from interlock.errors import InvalidRequest, UnsupportedParameter
from interlock.wire.anthropic_inbound import openai_request_from_anthropic
from interlock.wire.anthropic_messages import chat_request_from_messages, parse_messages_request
from interlock.wire.anthropic_responses import (
    AnthropicEventsFromOpenAI,
    OpenAIChunksFromAnthropic,
    anthropic_message_from_openai,
    finish_reason,
    openai_completion_from_anthropic,
    stop_reason,
    usage_from_anthropic,
)
from interlock.wire.anthropic_translate import anthropic_request_from_openai

PNG = "iVBORw0KGgo="
TOOLS_OPENAI = [{"type": "function", "function": {
    "name": "lookup", "description": "Find a record",
    "parameters": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}}}]
TOOLS_ANTHROPIC = [{"name": "lookup", "description": "Find a record",
                    "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}}]


def test_openai_request_becomes_anthropic_request() -> None:
    body = {
        "messages": [
            {"role": "system", "content": "Be terse."},
            {"role": "user", "content": [
                {"type": "text", "text": "What is in these?"},
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                {"type": "image_url", "image_url": {"url": "https://example.test/cat.jpg", "detail": "low"}},
            ]},
            {"role": "developer", "content": [{"type": "text", "text": "Answer in French."}]},
            {"role": "assistant", "content": "Let me look.", "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": '{"q": "cat"}'}},
                {"id": "call_2", "type": "function", "function": {"name": "lookup", "arguments": ""}},
            ]},
            {"role": "tool", "tool_call_id": "call_1", "content": "a cat"},
            {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "nothing"}]},
            {"role": "user", "content": "Thanks"},
        ],
        "tools": TOOLS_OPENAI, "tool_choice": "required", "parallel_tool_calls": False,
        "stop": "END", "temperature": 0.3, "top_p": 0.9, "user": "u-7", "seed": 4,
    }
    out = anthropic_request_from_openai(body, "claude-test", default_max_tokens=321)
    assert out == {
        "model": "claude-test",
        "max_tokens": 321,
        "system": [{"type": "text", "text": "Be terse."}, {"type": "text", "text": "Answer in French."}],
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "What is in these?"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
                {"type": "image", "source": {"type": "url", "url": "https://example.test/cat.jpg"}},
            ]},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Let me look."},
                {"type": "tool_use", "id": "call_1", "name": "lookup", "input": {"q": "cat"}},
                {"type": "tool_use", "id": "call_2", "name": "lookup", "input": {}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "call_1", "content": "a cat"},
                {"type": "tool_result", "tool_use_id": "call_2", "content": [{"type": "text", "text": "nothing"}]},
                {"type": "text", "text": "Thanks"},
            ]},
        ],
        "temperature": 0.3, "top_p": 0.9,
        "stop_sequences": ["END"],
        "metadata": {"user_id": "u-7"},
        "tools": TOOLS_ANTHROPIC,
        "tool_choice": {"type": "any", "disable_parallel_tool_use": True},
    }


@pytest.mark.parametrize(("choice", "expected"), [
    ("auto", {"type": "auto"}),
    ("none", {"type": "none"}),
    ("required", {"type": "any"}),
    ({"type": "function", "function": {"name": "lookup"}}, {"type": "tool", "name": "lookup"}),
])
def test_tool_choice(choice: Any, expected: dict[str, Any]) -> None:
    body = {"messages": [{"role": "user", "content": "x"}], "tools": TOOLS_OPENAI, "tool_choice": choice}
    assert anthropic_request_from_openai(body, "m", 10)["tool_choice"] == expected


def test_output_limit_prefers_the_clients_over_the_default() -> None:
    msgs = [{"role": "user", "content": "x"}]
    assert anthropic_request_from_openai({"messages": msgs, "max_tokens": 50}, "m", 999)["max_tokens"] == 50
    assert anthropic_request_from_openai({"messages": msgs, "max_completion_tokens": 60}, "m", 999)["max_tokens"] == 60
    assert anthropic_request_from_openai({"messages": msgs, "stop": ["a", "b"]}, "m", 9)["stop_sequences"] == ["a", "b"]


@pytest.mark.parametrize(("extra", "param", "error"), [
    ({"n": 2}, "n", UnsupportedParameter),
    ({"logprobs": True}, "logprobs", UnsupportedParameter),
    ({"response_format": {"type": "json_object"}}, "response_format", UnsupportedParameter),
    ({"temperature": 1.5}, "temperature", UnsupportedParameter),
    ({"messages": [{"role": "function", "name": "f", "content": "x"}]}, "messages[0].role", UnsupportedParameter),
    ({"messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}]},
     "messages[0].content[0]", UnsupportedParameter),
    ({"messages": [{"role": "tool", "content": "x"}]}, "messages[0].tool_call_id", InvalidRequest),
    ({"messages": [{"role": "assistant", "tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "f", "arguments": "[1]"}}]}]},
     "messages[0].tool_calls[0].function.arguments", InvalidRequest),
    ({"tools": [{"type": "web_search"}]}, "tools[0].type", UnsupportedParameter),
])
def test_what_anthropic_cannot_honour_is_refused_by_name(extra: dict[str, Any], param: str, error: type) -> None:
    body = {"messages": [{"role": "user", "content": "x"}], **extra}
    with pytest.raises(error) as exc:
        anthropic_request_from_openai(body, "m", 10)
    assert exc.value.param == param


def _anthropic_body() -> dict[str, Any]:
    return {
        "model": "claude-test",
        "max_tokens": 200,
        "system": "You are careful.",
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "Look at this"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
                {"type": "image", "source": {"type": "url", "url": "https://example.test/a.png"}},
            ]},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {"q": "a", "n": None}},
                {"type": "tool_use", "id": "toolu_2", "name": "lookup", "input": {"q": "b"}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "found a"},
                {"type": "tool_result", "tool_use_id": "toolu_2",
                 "content": [{"type": "text", "text": "found"}, {"type": "text", "text": "b"}]},
                {"type": "text", "text": "Summarise"},
            ]},
            {"role": "assistant", "content": "Done."},
            {"role": "user", "content": "Thanks"},
        ],
        "stop_sequences": ["###"],
        "temperature": 0.5,
        "top_p": 0.8,
        "metadata": {"user_id": "u-1"},
        "tools": TOOLS_ANTHROPIC,
        "tool_choice": {"type": "tool", "name": "lookup", "disable_parallel_tool_use": True},
    }


def test_anthropic_request_round_trips_through_the_openai_shape_core() -> None:
    original = _anthropic_body()
    req = chat_request_from_messages(parse_messages_request(copy.deepcopy(original)))
    assert [m.role for m in req.messages] == ["system", "user", "assistant", "tool", "tool", "user", "assistant", "user"]
    assert req.max_tokens == 200 and req.stop == ["###"] and req.user == "u-1" and req.parallel_tool_calls is False
    again = anthropic_request_from_openai(req.upstream_body(), "claude-test", default_max_tokens=1)
    assert again == original


def test_openai_request_round_trips_through_anthropic() -> None:
    body = {
        "model": "m",
        "messages": [
            {"role": "system", "content": "sys"},
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_9", "type": "function", "function": {"name": "lookup", "arguments": '{"q":"x"}'}}]},
            {"role": "tool", "tool_call_id": "call_9", "content": "result"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": [{"type": "text", "text": "and"},
                                         {"type": "image_url", "image_url": {"url": "https://example.test/i.png"}}]},
        ],
        "max_tokens": 77, "temperature": 0.1, "stop": ["x", "y"], "user": "u",
        "tools": TOOLS_OPENAI, "tool_choice": {"type": "function", "function": {"name": "lookup"}},
    }
    anthropic = anthropic_request_from_openai(body, "m", 5)
    assert openai_request_from_anthropic(anthropic) == body


def test_inbound_stream_asks_the_core_for_usage() -> None:
    body = {"model": "m", "max_tokens": 5, "stream": True, "top_k": 3, "messages": [{"role": "user", "content": "x"}]}
    out = openai_request_from_anthropic(body)
    assert out["stream"] is True and out["stream_options"] == {"include_usage": True}
    assert "top_k" not in out


@pytest.mark.parametrize(("anthropic", "openai"), [
    ("end_turn", "stop"), ("stop_sequence", "stop"), ("max_tokens", "length"),
    ("tool_use", "tool_calls"), ("refusal", "content_filter"), ("model_context_window_exceeded", "length"),
])
def test_stop_reasons(anthropic: str, openai: str) -> None:
    assert finish_reason(anthropic) == openai
    if anthropic not in ("stop_sequence", "model_context_window_exceeded"):
        assert stop_reason(openai) == anthropic
    assert stop_reason("stop", has_tool_calls=True) == "tool_use"


def test_usage_counts_cache_reads_and_writes_as_prompt_tokens() -> None:
    usage = usage_from_anthropic({"input_tokens": 10, "output_tokens": 4, "cache_read_input_tokens": 30,
                                  "cache_creation_input_tokens": 5})
    assert (usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens) == (45, 4, 30)


MESSAGE = {
    "id": "msg_abc", "type": "message", "role": "assistant", "model": "claude-test",
    "content": [{"type": "text", "text": "Let me check."},
                {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {"q": "cats", "limit": 3}}],
    "stop_reason": "tool_use", "stop_sequence": None,
    "usage": {"input_tokens": 12, "output_tokens": 9, "cache_read_input_tokens": 20, "cache_creation_input_tokens": 0},
}


def test_response_round_trip() -> None:
    completion = openai_completion_from_anthropic(MESSAGE, "claude-test")
    choice = completion["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] == "Let me check."
    assert orjson.loads(choice["message"]["tool_calls"][0]["function"]["arguments"]) == {"q": "cats", "limit": 3}
    assert completion["usage"] == {"prompt_tokens": 32, "completion_tokens": 9, "total_tokens": 41,
                                   "prompt_tokens_details": {"cached_tokens": 20}}
    assert anthropic_message_from_openai(completion, "claude-test") == MESSAGE


def _anthropic_events(message: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The event sequence the Messages API sends for ``message``."""
    start = {**message, "content": [], "stop_reason": None, "usage": {**message["usage"], "output_tokens": 1}}
    events = [("message_start", {"type": "message_start", "message": start}), ("ping", {"type": "ping"})]
    for i, block in enumerate(message["content"]):
        if block["type"] == "text":
            events.append(("content_block_start", {"type": "content_block_start", "index": i,
                                                   "content_block": {"type": "text", "text": ""}}))
            for piece in (block["text"][:4], block["text"][4:]):
                events.append(("content_block_delta", {"type": "content_block_delta", "index": i,
                                                       "delta": {"type": "text_delta", "text": piece}}))
        else:
            events.append(("content_block_start", {"type": "content_block_start", "index": i,
                                                   "content_block": {**block, "input": {}}}))
            raw = orjson.dumps(block["input"]).decode()
            for piece in ("", raw[:6], raw[6:]):
                events.append(("content_block_delta", {"type": "content_block_delta", "index": i,
                                                       "delta": {"type": "input_json_delta", "partial_json": piece}}))
        events.append(("content_block_stop", {"type": "content_block_stop", "index": i}))
    events.append(("message_delta", {"type": "message_delta", "usage": {"output_tokens": message["usage"]["output_tokens"]},
                                     "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None}}))
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def _accumulate(events: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Build the final message from Anthropic events, the way clients do; checks the event grammar on the way."""
    names = [n for n, _ in events]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    message = copy.deepcopy(events[0][1]["message"])
    partial: dict[int, str] = {}
    open_block: int | None = None
    for name, data in events[1:]:
        if name == "content_block_start":
            assert open_block is None and data["index"] == len(message["content"])
            open_block = data["index"]
            message["content"].append(copy.deepcopy(data["content_block"]))
        elif name == "content_block_delta":
            assert data["index"] == open_block
            delta, block = data["delta"], message["content"][data["index"]]
            if delta["type"] == "text_delta":
                block["text"] += delta["text"]
            else:
                partial[data["index"]] = partial.get(data["index"], "") + delta["partial_json"]
        elif name == "content_block_stop":
            assert data["index"] == open_block
            if open_block in partial:
                message["content"][open_block]["input"] = orjson.loads(partial[open_block])
            open_block = None
        elif name == "message_delta":
            message.update(data["delta"])
            message["usage"].update(data["usage"])
    return message


def test_stream_round_trip_through_openai_chunks() -> None:
    to_openai = OpenAIChunksFromAnthropic("claude-test", include_usage=True)
    chunks = [c for name, data in _anthropic_events(MESSAGE) for c in to_openai.feed(name, data)]
    assert to_openai.finished
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    args = "".join(t["function"]["arguments"] for c in chunks if c["choices"]
                   for t in c["choices"][0]["delta"].get("tool_calls") or ())
    assert text == "Let me check." and orjson.loads(args) == {"q": "cats", "limit": 3}
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "tool_calls"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["prompt_tokens"] == 32

    to_anthropic = AnthropicEventsFromOpenAI("claude-test")
    events = [e for c in chunks for e in to_anthropic.feed(c)] + to_anthropic.finish()
    final = _accumulate(events)
    assert final["content"] == MESSAGE["content"]
    assert final["stop_reason"] == "tool_use"
    assert final["usage"] == MESSAGE["usage"]


def test_stream_without_chunks_still_forms_a_whole_message() -> None:
    final = _accumulate(AnthropicEventsFromOpenAI("m").finish())
    assert final["content"] == [] and final["stop_reason"] == "end_turn"


def test_chunk_translator_ignores_pings_and_unknown_events() -> None:
    t = OpenAIChunksFromAnthropic("m", include_usage=False)
    assert t.feed("ping", {"type": "ping"}) == []
    assert t.feed("something_new", {"type": "something_new"}) == []
    assert t.feed("message_stop", {"type": "message_stop"}) == [] and t.finished
