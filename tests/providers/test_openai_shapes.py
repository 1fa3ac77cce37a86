"""What the gateway reads from an OpenAI-shape answer is checked at the provider boundary."""

from __future__ import annotations

import pytest

from interlock.providers.openai_compat import chunk_problem, completion_problem, usage_problem

GOOD_USAGE = {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7,
              "prompt_tokens_details": {"cached_tokens": 2}, "completion_tokens_details": {"reasoning_tokens": 0}}


def completion(**over):
    body = {"id": "x", "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}}],
            "usage": GOOD_USAGE}
    body.update(over)
    return body


def test_well_formed_answers_pass() -> None:
    assert completion_problem(completion()) is None
    assert completion_problem(completion(usage=None)) is None
    tool_message = {"role": "assistant", "content": None,
                    "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}
    assert completion_problem(completion(choices=[{"index": 0, "message": tool_message}])) is None
    assert completion_problem(completion(choices=[])) is None
    # streamed tool calls arrive in pieces
    pieces = [{"index": 0, "id": "c", "function": {"name": "f", "arguments": ""}}, {"index": 0}]
    assert chunk_problem({"choices": [{"index": 0, "delta": {"tool_calls": pieces}}]}) is None
    assert chunk_problem({"choices": [], "usage": GOOD_USAGE}) is None
    assert chunk_problem({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}) is None


@pytest.mark.parametrize("usage", ["lots", [], {"prompt_tokens": "3"}, {"completion_tokens": -1},
                                   {"total_tokens": True}, {"prompt_tokens_details": []},
                                   {"prompt_tokens_details": {"cached_tokens": 1.5}}])
def test_usage_of_the_wrong_shape_is_named(usage) -> None:
    assert usage_problem(usage)
    assert completion_problem(completion(usage=usage))
    assert chunk_problem({"choices": [], "usage": usage})


@pytest.mark.parametrize("choices", ["x", ["not a choice"], [{"message": "text"}],
                                     [{"message": {"content": 5}}], [{"message": {"tool_calls": "f"}}],
                                     [{"message": {"tool_calls": [{"id": "c"}]}}]])
def test_choices_of_the_wrong_shape_are_named(choices) -> None:
    assert completion_problem(completion(choices=choices))


def test_a_body_without_choices_or_not_an_object() -> None:
    assert completion_problem({"usage": GOOD_USAGE}) == "no `choices`"
    assert completion_problem([1, 2]) and chunk_problem("x")
    assert chunk_problem({"choices": [{"delta": "text"}]})
