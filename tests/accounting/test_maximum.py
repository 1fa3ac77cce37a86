"""The most a request can use: what budgets reserve and rate limits count before the call."""

from __future__ import annotations

from typing import Any

from interlock.accounting.maximum import OutputCeiling, input_tokens_of, prompt_tokens_of, requested_output
from interlock.config.deployments import AnthropicDeployment, OpenAIDeployment
from interlock.routing.tokens import count_messages

MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]
SCHEMA = {"type": "object", "properties": {f"field_{i}": {"type": "string", "description": f"property {i} of the "
                                                          "record, described at some length"} for i in range(30)}}


def deployment(kind: str = "openai", **over: Any) -> OpenAIDeployment | AnthropicDeployment:
    fields: dict[str, Any] = {"name": "d", "type": kind, "model": "m", "vendor": "v", "perimeter": "external",
                              "context_window": 8192, "base_url": "http://127.0.0.1:1", "price": {"type": "unknown"}}
    fields.update(over)
    return (OpenAIDeployment if kind == "openai" else AnthropicDeployment).model_validate(fields)


def test_tool_and_response_schemas_count_as_prompt() -> None:
    plain = prompt_tokens_of({"messages": MESSAGES})
    assert plain == count_messages(MESSAGES)
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": SCHEMA}}]
    with_tools = prompt_tokens_of({"messages": MESSAGES, "tools": tools})
    with_format = prompt_tokens_of({"messages": MESSAGES, "response_format": {"type": "json_schema",
                                                                              "json_schema": {"schema": SCHEMA}}})
    assert with_tools > plain + 300 and with_format > plain + 300
    # sampling settings are not text the model reads
    assert prompt_tokens_of({"messages": MESSAGES, "temperature": 0.2, "max_tokens": 5, "n": 3}) == plain
    assert prompt_tokens_of({"messages": MESSAGES, "tools": tools}, message_tokens=plain) == with_tools


def test_output_is_the_request_limit_times_its_choices() -> None:
    ceiling = OutputCeiling.of(deployment(), gateway_default=1024)
    requested, choices = requested_output({"max_tokens": 100, "n": 50})
    assert ceiling.tokens(requested, choices=choices) == 5000
    assert requested_output({"max_completion_tokens": 7, "max_tokens": 100}) == (7, 1)


def test_without_a_request_limit_the_deployment_decides() -> None:
    assert OutputCeiling.of(deployment(), 1024).tokens(None) == 1024  # the gateway's default
    assert OutputCeiling.of(deployment(max_output_tokens=4000), 1024).tokens(None) == 4000
    assert OutputCeiling.of(deployment("anthropic", default_max_tokens=2048), 1024).tokens(None) == 2048
    capped = OutputCeiling.of(deployment(max_output_tokens=4000), 1024)
    assert capped.tokens(100_000) == 4000  # never more than the deployment can write


def test_output_never_exceeds_the_context_window() -> None:
    assert OutputCeiling.of(deployment(context_window=1000), 1024).tokens(50_000, choices=2) == 2000


def test_embedding_input_tokens() -> None:
    assert input_tokens_of("one two three") == input_tokens_of(["one two three"]) > 0
    assert input_tokens_of([[1, 2, 3], [4]]) == 4
