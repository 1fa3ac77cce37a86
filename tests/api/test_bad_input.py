"""Bad input gets the documented status and a clear OpenAI-format error, and the gateway keeps serving."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from gateway_harness import openai_deployment, running_gateway


@pytest.fixture(scope="module")
def gateway(openai_upstream) -> Iterator[str]:
    _, up = openai_upstream
    config = {"server": {"max_body_bytes": 20_000}, "deployments": [openai_deployment("m", up)]}
    with running_gateway(config) as (url, _):
        yield url


def _post(url: str, content: bytes | str) -> httpx.Response:
    return httpx.post(url + "/v1/chat/completions", content=content, headers={"content-type": "application/json"})


def _error(resp: httpx.Response) -> dict:
    body = resp.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]


@pytest.mark.parametrize(
    ("payload", "status", "param", "fragment"),
    [
        (b"{not json", 400, None, "could not parse the JSON body"),
        (b"", 400, None, "body is empty"),
        (b"[1, 2]", 400, None, "must be a JSON object"),
        (b'{"model": "m"}', 400, "messages", "Missing required parameter: 'messages'"),
        (b'{"model": "m", "messages": []}', 400, "messages", "messages"),
        (b'{"model": "m", "messages": "hi"}', 400, "messages", "messages"),
        (b'{"model": "m", "messages": [{"role": "wizard", "content": "x"}]}', 400, "messages[0].role", "role"),
        (b'{"model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": "hot"}', 400, "temperature", "temperature"),
        (b'{"model": "m", "messages": [{"role": "user", "content": "x"}], "max_tokens": -5}', 400, "max_tokens", "max_tokens"),
        (b'{"model": "m", "messages": [{"role": "user", "content": "x"}], "frobnicate": 1}', 400, "frobnicate", "Unrecognized request argument supplied: frobnicate"),
        (b'{"messages": [{"role": "user", "content": "x"}]}', 400, "model", "Missing required parameter: 'model'"),
        (b'{"model": "nope", "messages": [{"role": "user", "content": "x"}]}', 404, "model", "Models: m"),
    ],
)
def test_bad_chat_requests(gateway: str, payload: bytes, status: int, param: str | None, fragment: str) -> None:
    resp = _post(gateway, payload)
    assert resp.status_code == status, resp.text
    err = _error(resp)
    assert err["param"] == param
    assert fragment in err["message"]
    assert resp.headers["x-request-id"]


def test_huge_body_is_413(gateway: str) -> None:
    big = b'{"model": "m", "messages": [{"role": "user", "content": "' + b"x" * 50_000 + b'"}]}'
    resp = _post(gateway, big)
    assert resp.status_code == 413
    assert _error(resp)["code"] == "payload_too_large"


def test_unknown_route_and_method(gateway: str) -> None:
    resp = httpx.get(gateway + "/v1/nothing")
    assert resp.status_code == 404 and "No route" in _error(resp)["message"]
    resp = httpx.get(gateway + "/v1/chat/completions")
    assert resp.status_code == 405 and _error(resp)["code"] == "method_not_allowed"


def test_gateway_keeps_serving_after_bad_input(gateway: str) -> None:
    for junk in (b"{", b"null", b'{"model": 1}', b"\xff\xfe"):
        assert _post(gateway, junk).status_code == 400
    ok = _post(gateway, b'{"model": "m", "messages": [{"role": "user", "content": "still here"}]}')
    assert ok.status_code == 200
    assert ok.json()["choices"][0]["message"]["content"] == "echo: still here"


def test_incoming_request_id_is_kept(gateway: str) -> None:
    resp = httpx.post(gateway + "/v1/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": "x"}]},
                      headers={"x-request-id": "trace-123"})
    assert resp.headers["x-request-id"] == "trace-123"
