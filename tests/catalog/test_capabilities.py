"""The one capability table: what a request needs; the 400 naming a parameter a deployment cannot honour."""

from __future__ import annotations

from typing import Any

import pytest

from interlock.catalog.capabilities import CAPABILITIES, check_supported, request_needs, unmet_needs
from interlock.config.deployments import Capabilities, OpenAIDeployment
from interlock.errors import UnsupportedParameter
from interlock.wire.openai_chat import ChatCompletionRequest


def _request(**extra: Any) -> ChatCompletionRequest:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], **extra}
    return ChatCompletionRequest.model_validate(body)


def _deployment(**capabilities: bool) -> OpenAIDeployment:
    return OpenAIDeployment(type="openai", name="d", model="m", vendor="v", perimeter="internal",
                            context_window=4096, base_url="http://127.0.0.1:1", price={"type": "unknown"},
                            capabilities=Capabilities(**capabilities))


def test_every_capability_is_a_field_of_the_deployment_config() -> None:
    assert {c.name for c in CAPABILITIES} <= set(Capabilities.model_fields)
    assert len({c.name for c in CAPABILITIES}) == len(CAPABILITIES)


def test_routing_needs_and_unmet_needs_come_from_the_same_table() -> None:
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    req = _request(tools=tools, response_format={"type": "json_object"}, n=2, stream=True)
    assert request_needs(req) == ("tools", "json_output")  # n and stream are checked on the deployment only
    assert unmet_needs(req, _deployment(streaming=False)) == [
        ("tools", "tool calling"), ("response_format", "JSON output"), ("n", "several choices (n > 1)"),
        ("stream", "streaming")]
    assert unmet_needs(req, _deployment(tools=True, json_output=True, multiple_choices=True)) == []
    assert request_needs(_request()) == ()


def test_check_supported_names_the_first_parameter() -> None:
    with pytest.raises(UnsupportedParameter) as info:
        check_supported(_request(response_format={"type": "json_object"}), _deployment())
    assert info.value.param == "response_format" and "JSON output" in str(info.value)
    check_supported(_request(), _deployment())
