"""``response_format`` is honoured or refused with a 400 naming it, never silently ignored."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from gateway_harness import openai_deployment, running_gateway
from servers import serve_in_thread

from interlock.api.app import build_app
from interlock.config.defaults import EMBEDDED_MODEL, default_config
from interlock.errors import InvalidRequest
from interlock.gateway.runtime import Runtime
from interlock.providers.llamacpp import grammar_response_format

CITY_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string", "maxLength": 40}, "population": {"type": "integer"}},
    "required": ["city", "population"],
    "additionalProperties": False,
}
JSON_SCHEMA_FORMAT = {"type": "json_schema", "json_schema": {"name": "city", "schema": CITY_SCHEMA}}


def test_openai_json_schema_becomes_a_llama_cpp_schema_grammar() -> None:
    assert grammar_response_format(JSON_SCHEMA_FORMAT) == {"type": "json_object", "schema": CITY_SCHEMA}
    assert grammar_response_format({"type": "json_object"}) == {"type": "json_object"}
    assert grammar_response_format({"type": "text"}) is None
    with pytest.raises(InvalidRequest) as exc:
        grammar_response_format({"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "nonsense"}}})
    assert exc.value.param == "response_format" and "nonsense" not in str(exc.value)


@pytest.fixture(scope="module")
def embedded_gateway() -> Iterator[str]:
    with serve_in_thread(build_app(Runtime(default_config({}))), timeout=300) as url:
        yield url


def chat(url: str, response_format: dict[str, object], stream: bool = False) -> httpx.Response:
    return httpx.post(url + "/v1/chat/completions", timeout=120, json={
        "model": EMBEDDED_MODEL, "max_tokens": 60, "temperature": 0, "stream": stream,
        "response_format": response_format,
        "messages": [{"role": "user", "content": "Name a large city and its population as JSON."}]})


@pytest.mark.embedded
def test_embedded_model_answers_json_matching_the_schema(embedded_gateway: str) -> None:
    resp = chat(embedded_gateway, JSON_SCHEMA_FORMAT)
    assert resp.status_code == 200, resp.text
    answer = json.loads(resp.json()["choices"][0]["message"]["content"])
    assert set(answer) == {"city", "population"}
    assert isinstance(answer["city"], str) and isinstance(answer["population"], int)


@pytest.mark.embedded
def test_embedded_model_refuses_a_schema_it_cannot_enforce(embedded_gateway: str) -> None:
    unsupported = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "nonsense"}}}
    resp = chat(embedded_gateway, unsupported)
    assert resp.status_code == 400
    assert resp.json()["error"]["param"] == "response_format"


def test_deployment_without_json_output_refuses_with_400_naming_response_format() -> None:
    plain = openai_deployment("plain", "http://127.0.0.1:9", capabilities={"json_output": False})
    with running_gateway({"deployments": [plain]}) as (url, _):
        for model in ("plain", "auto"):
            resp = httpx.post(url + "/v1/chat/completions", timeout=30, json={
                "model": model, "response_format": JSON_SCHEMA_FORMAT,
                "messages": [{"role": "user", "content": "x"}]})
            assert resp.status_code == 400, resp.text
            assert resp.json()["error"]["param"] == "response_format"
