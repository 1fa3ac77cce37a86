"""In-process fake providers for unit tests: each call follows a scripted ``Behaviour``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from interlock.providers.base import ChatRequest
from interlock.resilience.breaker import BreakerSettings, CircuitBreaker
from interlock.resilience.clock import Clock, MonotonicClock
from interlock.resilience.guard import GuardedProvider
from interlock.resilience.health import DeploymentHealth
from interlock.resilience.timeouts import TimeoutSettings

JSON = dict[str, Any]


@dataclass
class Behaviour:
    """What one call does: wait ``delay`` (or forever if ``hang``), then fail with ``error`` or
    answer; a stream sends ``chunks`` chunks, failing after ``fail_after`` chunks if set."""

    delay: float = 0.0
    hang: bool = False
    error: Exception | None = None
    chunks: int = 3
    fail_after: int | None = None
    stall_after: int | None = None
    finish: bool = True


OK = Behaviour()


@dataclass
class FakeProvider:
    name: str
    script: Sequence[Behaviour] = ()
    default: Behaviour = field(default_factory=Behaviour)
    clock: Clock = field(default_factory=MonotonicClock)
    calls: int = 0
    cancelled: int = 0
    closed_streams: int = 0
    finished: int = 0
    closed: bool = False

    def _next(self) -> Behaviour:
        self.calls += 1
        return self.script[self.calls - 1] if self.calls <= len(self.script) else self.default

    async def _wait(self, b: Behaviour) -> None:
        try:
            if b.hang:
                await asyncio.Event().wait()
            if b.delay:
                await self.clock.sleep(b.delay)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise

    async def complete(self, request: ChatRequest) -> JSON:
        b = self._next()
        await self._wait(b)
        if b.error is not None:
            raise b.error
        self.finished += 1
        return completion(self.name)

    async def stream(self, request: ChatRequest) -> AsyncIterator[JSON]:
        b = self._next()
        try:
            await self._wait(b)
            if b.error is not None and b.fail_after is None:
                raise b.error
            for i in range(b.chunks):
                if b.fail_after is not None and i == b.fail_after:
                    raise b.error or ConnectionResetError("cut")
                if b.stall_after is not None and i == b.stall_after:
                    await self._wait(Behaviour(hang=True))
                last = i == b.chunks - 1
                yield chunk(self.name, i, finish="stop" if (last and b.finish) else None)
            self.finished += 1
        finally:
            self.closed_streams += 1

    async def aclose(self) -> None:
        self.closed = True


def completion(name: str) -> JSON:
    return {
        "id": f"cmpl-{name}",
        "object": "chat.completion",
        "model": name,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": f"from {name}"}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
    }


def chunk(name: str, i: int, finish: str | None = None) -> JSON:
    return {
        "id": f"chunk-{name}",
        "object": "chat.completion.chunk",
        "model": name,
        "choices": [{"index": 0, "delta": {"content": f"{name}:{i}"}, "finish_reason": finish}],
    }


def request() -> ChatRequest:
    return ChatRequest(body={"messages": [{"role": "user", "content": "hi"}]}, request_id="req-1")


async def collect(stream: AsyncIterator[JSON]) -> list[JSON]:
    return [c async for c in stream]


def texts(chunks: list[JSON]) -> list[str]:
    return [c["choices"][0]["delta"]["content"] for c in chunks]


async def settle(rounds: int = 20) -> None:
    """Let every ready task run (for tests driving a ManualClock)."""
    for _ in range(rounds):
        await asyncio.sleep(0)


def guarded(
    inner: Any,
    clock: Clock,
    *,
    timeouts: TimeoutSettings | None = None,
    breaker: BreakerSettings | None = None,
    route: TimeoutSettings | None = None,
    require_finish_reason: bool = True,
) -> GuardedProvider:
    """``inner`` behind a guard of its own (fresh health and breaker), as the registry builds one."""
    name = getattr(inner, "name", "a")
    return GuardedProvider(
        inner, name, health=DeploymentHealth(name, clock), breaker=CircuitBreaker(name, clock, breaker),
        timeouts=timeouts or TimeoutSettings(), clock=clock, require_finish_reason=require_finish_reason,
        route_timeouts=route,
    )
