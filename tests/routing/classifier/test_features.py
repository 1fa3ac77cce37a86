"""Message shapes the classifier accepts, and the 400s it raises for malformed or empty content."""

from __future__ import annotations

from typing import Any

import pytest

from interlock.errors import InvalidRequest
from interlock.routing.classifier.features import clip, prompt_text, shape_features


def test_string_content() -> None:
    text = prompt_text([{"role": "user", "content": "Translate to German: good morning"}])
    assert text.last_user == "Translate to German: good morning"
    assert text.combined() == "Translate to German: good morning"


def test_list_of_parts_keeps_text_and_skips_images() -> None:
    content = [
        {"type": "text", "text": "What is in this receipt?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
        {"type": "input_text", "text": "Total only."},
    ]
    assert (
        prompt_text([{"role": "user", "content": content}]).last_user
        == "What is in this receipt?\nTotal only."
    )


def test_system_and_earlier_turns_come_first_and_last_user_is_whole() -> None:
    messages = [
        {"role": "system", "content": "You are a support agent for Acme Bank."},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "Hello! How can I help?"},
        {"role": "tool", "content": "ignored tool output"},
        {"role": "user", "content": [{"type": "text", "text": "my card was declined"}]},
    ]
    text = prompt_text(messages)
    assert text.system == "You are a support agent for Acme Bank."
    assert text.earlier_user == "hi"
    assert text.combined() == "You are a support agent for Acme Bank.\n\nhi\n\nmy card was declined"
    assert "Hello! How can I help?" not in text.combined()


def test_developer_role_counts_as_system_and_null_content_is_allowed() -> None:
    messages = [
        {"role": "developer", "content": "Answer in JSON."},
        {"role": "assistant", "content": None, "tool_calls": []},
        {"role": "user", "content": "list three colors"},
    ]
    assert prompt_text(messages).system == "Answer in JSON."


def test_context_budgets_bound_the_combined_text() -> None:
    messages = [
        {"role": "system", "content": "s" * 10_000},
        {"role": "user", "content": "u" * 10_000},
        {"role": "user", "content": "last"},
    ]
    combined = prompt_text(messages).combined()
    assert combined.endswith("\n\nlast")
    assert len(combined) < 1_000


@pytest.mark.parametrize(
    ("messages", "param"),
    [
        (None, "messages"),
        ("hello", "messages"),
        ([], "messages"),
        (["hello"], "messages[0]"),
        ([{"role": "robot", "content": "hi"}], "messages[0].role"),
        ([{"content": "hi"}], "messages[0].role"),
        ([{"role": "user", "content": 42}], "messages[0].content"),
        ([{"role": "user", "content": {"text": "hi"}}], "messages[0].content"),
        ([{"role": "user", "content": ["hi"]}], "messages[0].content[0]"),
        ([{"role": "user", "content": [{"text": "hi"}]}], "messages[0].content[0]"),
        ([{"role": "user", "content": [{"type": "text", "text": None}]}], "messages[0].content[0].text"),
        ([{"role": "system", "content": "only a system prompt"}], "messages"),
    ],
)
def test_malformed_messages_raise_invalid_request(messages: Any, param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        prompt_text(messages)
    assert caught.value.status == 400
    assert caught.value.param == param
    assert caught.value.to_openai()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    "content",
    [
        "",
        "   \n\t ",
        [],
        [{"type": "text", "text": "  "}],
        [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}],
    ],
)
def test_empty_content_raises_invalid_request(content: Any) -> None:
    with pytest.raises(InvalidRequest) as caught:
        prompt_text([{"role": "user", "content": content}])
    assert caught.value.status == 400
    assert caught.value.code == "empty_content"
    assert "no text content" in caught.value.message


def test_clip_keeps_head_and_tail() -> None:
    assert clip("abcdef", 2, 2) == "ab\nef"
    assert clip("abc", 2, 2) == "abc"


def test_shape_features_are_bounded_for_huge_prompts() -> None:
    features = shape_features("word " * 400_000 + "?\n" * 1000)
    assert len(features) == 8
    assert all(0.0 <= f <= 2.0 for f in features)
