import random
import socket

import pytest

from interlock.evaluation.client import CompletionFailed, GatewayClient, RetryPolicy, chat_completions_url


def test_url_accepts_root_or_v1():
    assert chat_completions_url("http://h:8080") == "http://h:8080/v1/chat/completions"
    assert chat_completions_url("http://h:8080/v1/") == "http://h:8080/v1/chat/completions"


def test_backoff_is_capped_jittered_and_yields_to_retry_after():
    policy = RetryPolicy(base_delay_s=1.0, max_delay_s=4.0, max_retry_after_s=10.0)
    rng = random.Random(7)
    delays = [policy.delay(attempt, None, rng) for attempt in (1, 2, 3, 4, 5)]
    assert all(0 <= d <= cap for d, cap in zip(delays, [1, 2, 4, 4, 4], strict=True))
    assert policy.delay(1, 3.0, rng) == 3.0
    assert policy.delay(1, 60.0, rng) == 10.0


async def test_retry_after_from_the_gateway_is_honoured(gateway):
    gateway.failures["q"] = [429]
    gateway.default_answers["m"] = "fine"
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async with GatewayClient(gateway.url, sleep=sleep) as client:
        completion = await client.complete("m", {"messages": [{"role": "user", "content": "q"}]})
    assert completion.text == "fine" and completion.attempts == 2
    assert slept == [0.0]  # the scripted Retry-After: 0


async def test_exhausted_retries_raise_a_retryable_failure(gateway):
    gateway.failures["q"] = [503, 502, 500]
    async with GatewayClient(gateway.url, retry=RetryPolicy(attempts=3, base_delay_s=0.001)) as client:
        with pytest.raises(CompletionFailed) as caught:
            await client.complete("m", {"messages": [{"role": "user", "content": "q"}]})
    assert caught.value.status == 500 and caught.value.retryable and caught.value.attempts == 3


async def test_a_missing_upstream_key_is_final_not_retried(gateway):
    gateway.failures["q"] = [502, 502, 502]
    gateway.error_codes["q"] = "upstream_key_missing"
    async with GatewayClient(gateway.url, retry=RetryPolicy(attempts=3, base_delay_s=0.001)) as client:
        with pytest.raises(CompletionFailed) as caught:
            await client.complete("m", {"messages": [{"role": "user", "content": "q"}]})
    assert caught.value.status == 502 and not caught.value.retryable and caught.value.attempts == 1
    assert len(gateway.calls(prompt="q")) == 1


async def test_connection_refused_is_transient():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the block ends: nothing listens there
    retry = RetryPolicy(attempts=2, base_delay_s=0.001)
    async with GatewayClient(f"http://127.0.0.1:{port}", retry=retry) as client:
        with pytest.raises(CompletionFailed) as caught:
            await client.complete("m", {"messages": [{"role": "user", "content": "q"}]})
    assert caught.value.retryable and caught.value.status is None and caught.value.attempts == 2
