"""The real embedded model (SmolLM2-135M GGUF via llama.cpp) answers through the gateway."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import openai
import pytest
from servers import serve_in_thread

from interlock.api.app import build_app
from interlock.config.defaults import EMBEDDED_MODEL, default_config
from interlock.config.load import config_from_object
from interlock.config.schema import GatewayConfig
from interlock.gateway.runtime import Runtime

pytestmark = pytest.mark.embedded


@pytest.fixture(scope="module")
def gateway() -> Iterator[str]:
    with serve_in_thread(build_app(Runtime(default_config({}))), timeout=300) as url:
        yield url


def test_embedded_model_answers_with_openai_sdk(gateway: str) -> None:
    client = openai.OpenAI(base_url=gateway + "/v1", api_key="none", max_retries=0)
    raw = client.chat.completions.with_raw_response.create(
        model=EMBEDDED_MODEL, messages=[{"role": "user", "content": "What is the capital of France?"}],
        max_tokens=12, temperature=0,
    )
    resp = raw.parse()
    assert resp.choices[0].message.content.strip()
    assert resp.usage.prompt_tokens > 5 and 0 < resp.usage.completion_tokens <= 12
    assert raw.headers["x-interlock-deployment"] == "embedded-smollm2"
    models = {m.id: m.model_dump() for m in client.models.list().data}
    assert models[EMBEDDED_MODEL]["perimeter"] == "internal" and models[EMBEDDED_MODEL]["open_weight"] is True


def test_embedded_model_streams_with_usage(gateway: str) -> None:
    client = openai.OpenAI(base_url=gateway + "/v1", api_key="none", max_retries=0)
    stream = client.chat.completions.create(
        model=EMBEDDED_MODEL, messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello."}],
        max_tokens=8, temperature=0, stream=True, stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip()
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


def test_unsupported_parameters_for_embedded_model(gateway: str) -> None:
    client = openai.OpenAI(base_url=gateway + "/v1", api_key="none", max_retries=0)
    with pytest.raises(openai.BadRequestError) as exc:
        client.chat.completions.create(model=EMBEDDED_MODEL, messages=[{"role": "user", "content": "x"}], n=3)
    assert exc.value.body["param"] == "n"
    with pytest.raises(openai.BadRequestError) as exc:
        client.chat.completions.create(
            model=EMBEDDED_MODEL, messages=[{"role": "user", "content": "x"}],
            tools=[{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}])
    assert exc.value.body["param"] == "tools"


def test_prompt_longer_than_context_is_a_clear_400(gateway: str) -> None:
    resp = httpx.post(gateway + "/v1/chat/completions", timeout=120, json={
        "model": EMBEDDED_MODEL, "max_tokens": 4,
        "messages": [{"role": "user", "content": "word " * 3000}]})
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "context_length_exceeded"


def test_full_queue_answers_503_with_retry_after_not_a_hang() -> None:
    base = default_config({}).config.model_dump(mode="json")
    base["deployments"][0]["max_queue"] = 0
    loaded = config_from_object(GatewayConfig.model_validate(base), "<test>")

    async def burst(url: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=120) as client:
            body = {"model": EMBEDDED_MODEL, "messages": [{"role": "user", "content": "Count to twenty."}], "max_tokens": 48}
            return await asyncio.gather(*[client.post(url + "/v1/chat/completions", json=body) for _ in range(4)])

    with serve_in_thread(build_app(Runtime(loaded)), timeout=300) as url:
        responses = asyncio.run(burst(url))
        statuses = sorted(r.status_code for r in responses)
        assert statuses.count(200) >= 1 and 503 in statuses, statuses
        busy = next(r for r in responses if r.status_code == 503)
        assert busy.json()["error"]["code"] == "overloaded"
        assert int(busy.headers["retry-after"]) >= 1
        after = httpx.post(url + "/v1/chat/completions", timeout=120,
                           json={"model": EMBEDDED_MODEL, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2})
        assert after.status_code == 200
