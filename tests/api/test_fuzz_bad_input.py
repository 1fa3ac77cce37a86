"""Bad input, fuzzed: never a 5xx, never a dropped connection, errors in the route's own format,
and nothing malformed forwarded to an upstream.

Valid OpenAI, Anthropic and embeddings requests are mutated by a seeded generator (values of the
wrong type, missing and unknown fields, lists where a ``type`` string belongs, deep nesting, numbers
past 64 bits, lone surrogates, non-JSON bodies) and sent over one keep-alive connection to a gateway
in front of two loopback upstreams, an OpenAI-format one and a strict Anthropic-format one.
"""

from __future__ import annotations

import copy
import json
import random
import re
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from gateway_harness import openai_deployment, running_gateway
from pydantic import ValidationError
from servers import serve_in_thread
from upstreams.anthropic_upstream import (
    API_KEY,
    KEY_ENV,
    AnthropicUpstream,
    RequestProblem,
    _check,
    anthropic_deployment,
)
from upstreams.openai_upstream import OpenAIUpstream

from interlock.gateway.runtime import Runtime
from interlock.wire.openai_chat import ChatCompletionRequest
from interlock.wire.openai_embeddings import EmbeddingsRequest

REQUESTS = 600
JSON = dict[str, Any]

SEEDS: dict[str, list[JSON]] = {
    "/v1/chat/completions": [
        {"model": "echo", "messages": [{"role": "system", "content": "be brief"},
                                       {"role": "user", "content": "hello there"}],
         "temperature": 0.5, "max_tokens": 20, "stop": ["###"], "metadata": {"team": "a"}},
        {"model": "echo", "stream": True, "stream_options": {"include_usage": True},
         "messages": [{"role": "user", "content": [{"type": "text", "text": "look"},
                                                   {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}]},
        {"model": "claude", "tool_choice": "auto", "response_format": {"type": "json_object"},
         "messages": [{"role": "user", "content": "call it"},
                      {"role": "assistant", "content": None, "tool_calls": [
                          {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"a\": 1}"}}]},
                      {"role": "tool", "tool_call_id": "c1", "content": "done"}],
         "tools": [{"type": "function", "function": {"name": "f", "description": "d", "parameters": {
             "type": "object", "properties": {"a": {"type": ["integer", "null"], "enum": [1, 2]}}}}}]},
    ],
    "/v1/messages": [
        {"model": "echo", "max_tokens": 50, "system": "be brief", "metadata": {"user_id": "u1"},
         "messages": [{"role": "user", "content": "hello"}]},
        {"model": "claude", "max_tokens": 50, "stream": True, "messages": [{"role": "user", "content": [
            {"type": "text", "text": "look"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}}]}]},
        {"model": "echo", "max_tokens": 50, "tools": [{"name": "f", "description": "d", "input_schema": {"type": "object"}}],
         "messages": [{"role": "user", "content": "x"},
                      {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}}]},
                      {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "r"}]}]},
    ],
    "/v1/embeddings": [{"model": "echo", "input": ["a", "b"]}, {"model": "echo", "input": "hello", "dimensions": 3}],
}
KEYS = ["type", "text", "role", "content", "meta", "url", "id", "name", "input", "function", "cache_control"]
ODD_STRINGS = ["", "x", "user", "assistant", "tool", "text", "image_url", "function", "\u0000", "💥", "a" * 2000]
DEEP = "__DEEP_{}__"  # replaced in the encoded body by that many nested arrays and objects


def _odd_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(11)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 2**63, 2**64, 10**30, 3.5, -1e308, 1e-300])
    if kind == 3:
        return rng.choice(ODD_STRINGS)
    if kind == 4 and depth < 3:
        return [_odd_value(rng, depth + 1) for _ in range(rng.randrange(3))]
    if kind == 5 and depth < 3:
        return {rng.choice(KEYS): _odd_value(rng, depth + 1) for _ in range(rng.randrange(3))}
    if kind == 6:
        return {"type": [rng.choice(ODD_STRINGS)]}
    if kind == 7:
        return DEEP.format(rng.choice([40, 127, 200, 255, 300, 1000]))
    if kind == 8:
        return "__SURROGATE__"
    return rng.choice(["text", 1, [], {}])


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield from _paths(value, (*prefix, key))


def _mutated(rng: random.Random, seed: JSON) -> JSON:
    body = copy.deepcopy(seed)
    for _ in range(rng.randint(1, 3)):
        paths = list(_paths(body))[1:]
        if not paths:
            break
        path = rng.choice(paths)
        parent: Any = body
        for step in path[:-1]:
            parent = parent[step]
        target = parent[path[-1]]
        action = rng.randrange(4)
        if action == 0:
            del parent[path[-1]]
        elif action == 1 and isinstance(target, dict):
            target[rng.choice(KEYS)] = _odd_value(rng)
        elif action == 1 and isinstance(target, list):
            target.append(_odd_value(rng))
        else:
            parent[path[-1]] = _odd_value(rng)
    return body


def _nested(levels: int) -> bytes:
    half = levels // 2
    return b'{"a":' * half + b"[" * (levels - half) + b"1" + b"]" * (levels - half) + b"}" * half


def _encoded(rng: random.Random, body: JSON) -> bytes:
    raw = json.dumps(body).encode()  # the standard encoder writes integers of any size
    raw = re.sub(rb'"__DEEP_(\d+)__"', lambda m: _nested(int(m.group(1))), raw)
    raw = raw.replace(b'"__SURROGATE__"', b'"\\ud800"')
    if rng.random() < 0.03:
        raw = raw[: rng.randrange(len(raw))]  # cut short
    return raw


@pytest.fixture(scope="module")
def gateway(
    monkeypatch_module: pytest.MonkeyPatch,
) -> Iterator[tuple[str, Runtime, OpenAIUpstream, AnthropicUpstream]]:
    monkeypatch_module.setenv(KEY_ENV, API_KEY)
    openai_up, anthropic_up = OpenAIUpstream(), AnthropicUpstream()
    caps = {"tools": True, "images": True, "json_output": True, "multiple_choices": True, "embeddings": True}
    with serve_in_thread(openai_up.app) as o_url, serve_in_thread(anthropic_up.app) as a_url:
        config = {"deployments": [
            openai_deployment("gpt-echo", o_url, model="echo", upstream_model="echo-model", capabilities=caps),
            anthropic_deployment("claude-a", a_url, model="claude"),
        ]}
        with running_gateway(config) as (url, runtime):
            yield url, runtime, openai_up, anthropic_up


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def _format_problem(route: str, resp: httpx.Response) -> str | None:
    """Why an error answer is not in the route's format (None when it is)."""
    try:
        body = resp.json()
    except ValueError:
        return "the error body is not JSON"
    if route == "/v1/messages":
        ok = body.get("type") == "error" and isinstance(body.get("error"), dict) and "message" in body["error"]
        return None if ok else "not an Anthropic error"
    ok = isinstance(body.get("error"), dict) and {"message", "type", "param", "code"} <= set(body["error"])
    return None if ok else "not an OpenAI error"


def _malformed_upstream_bodies(openai_up: OpenAIUpstream, anthropic_up: AnthropicUpstream) -> list[str]:
    problems = []
    for body in openai_up.received:
        try:
            (EmbeddingsRequest if "input" in body else ChatCompletionRequest).model_validate(body)
        except ValidationError as exc:
            problems.append(f"openai upstream got {orjson.dumps(body)[:300]!r}: {exc.errors()[0]['msg']}")
    for body in anthropic_up.received:
        try:
            _check(body)
        except RequestProblem as exc:
            problems.append(f"anthropic upstream got {orjson.dumps(body)[:300]!r}: {exc}")
    return problems


def test_fuzzed_requests_get_a_4xx_in_their_routes_format_and_nothing_malformed_goes_upstream(
    gateway: tuple[str, Runtime, OpenAIUpstream, AnthropicUpstream],
) -> None:
    url, runtime, openai_up, anthropic_up = gateway
    rng = random.Random(20261212)
    failures: list[str] = []
    with httpx.Client(timeout=30) as client:  # one keep-alive connection: a reset would break the next request
        for _ in range(REQUESTS):
            route = rng.choice(list(SEEDS))
            raw = _encoded(rng, _mutated(rng, rng.choice(SEEDS[route])))
            try:
                resp = client.post(url + route, content=raw, headers={"content-type": "application/json"})
            except httpx.TransportError as exc:
                failures.append(f"{route} {type(exc).__name__} for {raw[:300]!r}")
                continue
            if resp.status_code >= 500:
                failures.append(f"{route} {resp.status_code} {resp.text[:200]} for {raw[:300]!r}")
            elif resp.status_code >= 400 and (problem := _format_problem(route, resp)):
                failures.append(f"{route} {resp.status_code} {problem}: {resp.text[:200]}")
            elif resp.status_code == 200 and "text/event-stream" in resp.headers["content-type"]:
                if "event: error" in resp.text or '"error"' in resp.text:
                    failures.append(f"{route} stream broke: {resp.text[-200:]} for {raw[:300]!r}")
    failures += _malformed_upstream_bodies(openai_up, anthropic_up)
    assert not failures, f"{len(failures)} failures, first ones:\n" + "\n".join(failures[:5])
    for name in ("gpt-echo", "claude-a"):  # nothing the clients did is held against a deployment
        assert runtime.resilience.health(name).snapshot().errors == 0
        assert runtime.resilience.breaker(name).state.value == "closed"


@pytest.mark.parametrize("route", ["/v1/chat/completions", "/v1/messages", "/v1/embeddings"])
def test_deep_nesting_is_refused_before_any_upstream_and_is_no_verdict_on_it(
    gateway: tuple[str, Runtime, OpenAIUpstream, AnthropicUpstream], route: str
) -> None:
    url, runtime, openai_up, anthropic_up = gateway
    seed = orjson.dumps(SEEDS[route][0])
    raw = seed[:-1] + b', "metadata": ' + _nested(300) + b"}" if route != "/v1/embeddings" else \
        b'{"model": "echo", "input": ' + _nested(300) + b"}"
    sent_before = len(openai_up.received) + len(anthropic_up.received)
    for _ in range(6):  # more than the breaker's consecutive-failure threshold
        resp = httpx.post(url + route, content=raw, headers={"content-type": "application/json"})
        assert resp.status_code == 400, resp.text
        assert _format_problem(route, resp) is None
        assert "levels deep" in resp.text
    assert len(openai_up.received) + len(anthropic_up.received) == sent_before
    assert runtime.resilience.breaker("gpt-echo").state.value == "closed"
    assert httpx.post(url + route, json=SEEDS[route][0]).status_code == 200


def test_a_type_that_is_a_list_is_a_400_naming_the_field(
    gateway: tuple[str, Runtime, OpenAIUpstream, AnthropicUpstream],
) -> None:
    url, _, _, _ = gateway
    body = {"model": "echo", "messages": [{"role": "user", "content": "hi", "meta": {"type": ["a"]}}]}
    resp = httpx.post(url + "/v1/chat/completions", json=body)
    assert resp.status_code == 400 and resp.json()["error"]["param"] == "messages[0].meta"
    body = {"model": "echo", "messages": [{"role": "user", "content": [{"type": ["a"], "text": "hi"}]}]}
    resp = httpx.post(url + "/v1/chat/completions", json=body)
    assert resp.status_code == 400 and resp.json()["error"]["param"].startswith("messages[0].content")
    body = {"model": "echo", "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": ["a"]}]}]}
    resp = httpx.post(url + "/v1/messages", json=body)
    assert resp.status_code == 400 and resp.json()["type"] == "error"


def test_unknown_paths_and_methods_answer_in_the_apis_format(
    gateway: tuple[str, Runtime, OpenAIUpstream, AnthropicUpstream],
) -> None:
    url, _, _, _ = gateway
    for method, path, status in (("GET", "/v1/messages", 405), ("POST", "/v1/messages/batches", 404),
                                 ("DELETE", "/v1/messages", 405)):
        resp = httpx.request(method, url + path)
        assert resp.status_code == status
        assert resp.json()["type"] == "error" and resp.json()["error"]["message"], resp.text
    resp = httpx.get(url + "/v1/chat/completions")
    assert resp.status_code == 405 and resp.json()["error"]["code"] == "method_not_allowed"
    assert "POST" in resp.headers["allow"]
