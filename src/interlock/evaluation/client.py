"""The evaluation side of the wire: POST ``/v1/chat/completions`` to the gateway, retry what is transient.

Transport failures, 408/425/429 and 5xx answers are retried with capped exponential backoff and
full jitter (a ``Retry-After`` header wins when present); anything else fails at once as
``CompletionFailed``. Latency is the wall time of the attempt that succeeded.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any

import aiohttp
import orjson

MODEL_HEADER = "x-interlock-model"
VERSION_HEADER = "x-interlock-version"  # family@version when the serving deployment declares one
COST_HEADER = "x-interlock-cost-usd"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 4
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    max_retry_after_s: float = 30.0
    retry_statuses: frozenset[int] = field(
        default_factory=lambda: frozenset({408, 425, 429, 500, 502, 503, 504})
    )

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after_s)
        return rng.uniform(0, min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1)))


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    model_version: str
    prompt_tokens: int | None
    completion_tokens: int | None
    cost_usd: float | None
    latency_ms: float
    finish_reason: str | None = None
    attempts: int = 1


class CompletionFailed(Exception):
    """The gateway did not produce a completion; ``retryable`` says whether a later run might."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after
        self.attempts = attempts


def chat_completions_url(base_url: str) -> str:
    """Accept the gateway root or its ``/v1`` prefix."""
    root = base_url.rstrip("/")
    return f"{root}/chat/completions" if root.endswith("/v1") else f"{root}/v1/chat/completions"


def _float_header(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def parse_completion(model: str, payload: Any, headers: dict[str, str], latency_ms: float) -> Completion:
    try:
        choice = payload["choices"][0]
        text = choice["message"].get("content") or ""
    except (KeyError, IndexError, TypeError, AttributeError):
        raise CompletionFailed("the gateway's answer has no choices[0].message") from None
    usage = payload.get("usage") or {}
    return Completion(
        text=text,
        model_version=headers.get(VERSION_HEADER) or headers.get(MODEL_HEADER) or payload.get("model") or model,
        prompt_tokens=usage.get("prompt_tokens"),
        completion_tokens=usage.get("completion_tokens"),
        cost_usd=_float_header(headers.get(COST_HEADER)),
        latency_ms=latency_ms,
        finish_reason=choice.get("finish_reason"),
    )


class GatewayClient:
    """One pooled HTTP session to the gateway; use as ``async with`` inside the running loop."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        retry: RetryPolicy = RetryPolicy(),
        timeout_s: float = 120.0,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.url = chat_completions_url(base_url)
        self.headers = {"content-type": "application/json"}
        if api_key:
            self.headers["authorization"] = f"Bearer {api_key}"
        self.retry = retry
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.rng = rng or random.Random()
        self.sleep = sleep
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> GatewayClient:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _session_now(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=self.timeout, connector=aiohttp.TCPConnector(limit=0), headers=self.headers
            )
        return self._session

    async def complete(self, model: str, body: dict[str, Any]) -> Completion:
        """Send ``body`` (OpenAI chat format, without ``model``) to ``model``, retrying transient failures."""
        payload = orjson.dumps({**body, "model": model, "stream": False})
        for attempt in range(1, self.retry.attempts + 1):
            try:
                completion = await self._attempt(model, payload)
                return replace(completion, attempts=attempt)
            except CompletionFailed as failure:
                failure.attempts = attempt
                if not failure.retryable or attempt == self.retry.attempts:
                    raise
                await self.sleep(self.retry.delay(attempt, failure.retry_after, self.rng))
        raise AssertionError("unreachable: the loop returns or raises")

    async def _attempt(self, model: str, payload: bytes) -> Completion:
        started = time.perf_counter()
        try:
            async with self._session_now().post(self.url, data=payload) as response:
                raw = await response.read()
                headers = {k.lower(): v for k, v in response.headers.items()}
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise CompletionFailed(
                f"connection failed: {type(exc).__name__}: {exc}", retryable=True
            ) from None
        latency_ms = (time.perf_counter() - started) * 1000
        if status >= 400:
            body = raw[:300].decode("utf-8", errors="replace")
            final = _error_code(raw) in _FINAL_CODES  # a missing key stays missing: retrying only burns time
            raise CompletionFailed(
                f"HTTP {status}: {body}",
                status=status,
                retryable=status in self.retry.retry_statuses and not final,
                retry_after=_float_header(headers.get("retry-after")),
            )
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise CompletionFailed(f"HTTP {status} with a body that is not JSON", status=status) from None
        return parse_completion(model, data, headers, latency_ms)


_FINAL_CODES = frozenset({"upstream_key_missing"})


def _error_code(raw: bytes) -> str | None:
    """The OpenAI-format error code of a gateway error body, if it has one."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    error = data.get("error") if isinstance(data, dict) else None
    return str(error.get("code")) if isinstance(error, dict) and error.get("code") is not None else None
