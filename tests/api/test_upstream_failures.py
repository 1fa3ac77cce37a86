"""Upstream failures map to 502/504 in OpenAI format; a stream cut after the first byte ends with an error event."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest
from gateway_harness import openai_deployment, running_gateway


@pytest.fixture(scope="module")
def gateway(openai_upstream) -> Iterator[str]:
    _, up = openai_upstream
    deps = [openai_deployment(f"f-{k}", up, upstream_model=f"fault-{k}")
            for k in ("500", "429", "400", "malformed", "wrong-type", "cut")]
    deps.append(openai_deployment("f-hang", up, upstream_model="fault-hang", timeouts={"total": 0.5}))
    deps.append(openai_deployment("f-slowstart", up, upstream_model="fault-slow", timeouts={"first_token": 0.05}))
    deps.append(openai_deployment("down", "http://127.0.0.1:9", timeouts={"connect": 0.5}))
    with running_gateway({"deployments": deps}) as (url, _):
        yield url


def _chat(url: str, model: str, stream: bool = False) -> httpx.Response:
    return httpx.post(url + "/v1/chat/completions", timeout=10,
                      json={"model": model, "messages": [{"role": "user", "content": "alpha beta gamma delta"}], "stream": stream})


@pytest.mark.parametrize(
    ("model", "status", "code"),
    [
        ("f-500", 502, "upstream_error"),
        ("f-429", 429, "upstream_error"),
        ("f-malformed", 502, "upstream_malformed_response"),
        ("f-wrong-type", 502, "upstream_malformed_response"),
        ("f-hang", 504, "timeout_total"),
        ("down", 502, "upstream_connection_error"),
    ],
)
def test_upstream_failure_statuses(gateway: str, model: str, status: int, code: str) -> None:
    resp = _chat(gateway, model)
    assert resp.status_code == status, resp.text
    err = resp.json()["error"]
    assert err["code"] == code
    assert model in err["message"]
    if status == 429:  # every way out is rate limited: the client is told when to come back
        assert int(resp.headers["retry-after"]) >= 1


def test_upstream_client_error_is_reported_as_the_clients(gateway: str) -> None:
    # the request itself was refused: a 4xx the client must fix (a 5xx would make SDKs send it again)
    resp = _chat(gateway, "f-400")
    assert resp.status_code == 400
    error = resp.json()["error"]
    assert "bad parameter foo" in error["message"] and error["type"] == "invalid_request_error"


def test_stream_failure_before_first_byte_is_plain_error(gateway: str) -> None:
    resp = _chat(gateway, "f-500", stream=True)
    assert resp.status_code == 502
    assert resp.headers["content-type"].startswith("application/json")
    resp = _chat(gateway, "f-slowstart", stream=True)
    assert resp.status_code == 504


def test_stream_cut_mid_way_ends_with_error_event_not_done(gateway: str) -> None:
    resp = _chat(gateway, "f-cut", stream=True)
    assert resp.status_code == 200
    events = [line.removeprefix("data: ") for line in resp.text.split("\n\n") if line.startswith("data: ")]
    assert events, resp.text
    assert "[DONE]" not in events
    assert '"error"' in events[-1]
    client = openai.OpenAI(base_url=gateway + "/v1", api_key="x", max_retries=0)
    with pytest.raises(openai.APIError):
        for _ in client.chat.completions.create(
            model="f-cut", messages=[{"role": "user", "content": "alpha beta gamma delta"}], stream=True):
            pass


def test_metrics_count_errors_by_deployment(gateway: str) -> None:
    _chat(gateway, "f-500")
    text = httpx.get(gateway + "/metrics").text
    assert 'interlock_errors_total{code="upstream_error",deployment="f-500",model="f-500"}' in text
    assert "interlock_request_latency_seconds_bucket" in text
