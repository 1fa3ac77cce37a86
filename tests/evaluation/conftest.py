"""Fixtures for evaluation tests: items built like a suite would build them, and a loopback gateway.

The gateway is a real HTTP server (starlette under uvicorn, in a thread, on 127.0.0.1) speaking
OpenAI chat completions with interlock's response headers; tests script its answers and failures
and read back every request it received.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from servers import serve_in_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from interlock.evaluation.suite import ItemSpec, SuiteDefaults, SuiteItem
from interlock.evaluation.suite_files import resolve_item


def build_item(
    scorer: str,
    expected: Any = None,
    options: dict[str, Any] | None = None,
    prompt: str = "question",
    category: str = "general_chat",
    item_id: str = "t1",
) -> SuiteItem:
    spec = ItemSpec.model_validate(
        {
            "id": item_id,
            "messages": [{"role": "user", "content": prompt}],
            "category": category,
            "scorer": scorer,
            "scorer_options": options or {},
            "expected": expected,
        }
    )
    resolved = resolve_item(spec, SuiteDefaults(), "test.jsonl", 1)
    assert isinstance(resolved, SuiteItem), resolved
    return resolved


@pytest.fixture
def make_item() -> Callable[..., SuiteItem]:
    return build_item


@dataclass
class FakeGateway:
    """Scripted behaviour of the loopback gateway; mutate it from tests."""

    url: str = ""
    answers: dict[tuple[str, str], str] = field(default_factory=dict)  # (model, last user text) -> answer
    default_answers: dict[str, str] = field(default_factory=dict)  # model -> answer to any other prompt
    versions: dict[str, str] = field(default_factory=dict)
    costs: dict[str, float] = field(default_factory=dict)  # models without an entry send no cost header
    delays: dict[str, float] = field(default_factory=dict)
    failures: dict[str, list[int]] = field(default_factory=dict)  # prompt -> statuses to answer first
    error_codes: dict[str, str] = field(default_factory=dict)  # prompt -> the `code` of its scripted errors
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def calls(self, model: str | None = None, prompt: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [
                r
                for r in self.requests
                if (model is None or r["model"] == model) and (prompt is None or _last_user(r) == prompt)
            ]

    async def handle(self, request: Request) -> JSONResponse:
        body = await request.json()
        model, prompt = body["model"], _last_user(body)
        with self.lock:
            self.requests.append(body)
            scripted = self.failures.get(prompt)
            status = scripted.pop(0) if scripted else None
        if status is not None:
            return JSONResponse(
                {"error": {"message": "scripted failure", "type": "api_error", "code": self.error_codes.get(prompt)}},
                status_code=status,
                headers={"retry-after": "0"} if status in (429, 503) else {},
            )
        await asyncio.sleep(self.delays.get(model, 0.0))
        answer = self.answers.get((model, prompt)) or self.default_answers.get(model, "I do not know.")
        version = self.versions.get(model, f"{model}@1")
        headers = {"x-interlock-model": model, "x-interlock-version": version}  # as the gateway sends them
        if model in self.costs:
            headers["x-interlock-cost-usd"] = str(self.costs[model])
        return JSONResponse(
            {
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}
                ],
                "usage": {
                    "prompt_tokens": len(prompt.split()),
                    "completion_tokens": len(answer.split()),
                    "total_tokens": len(prompt.split()) + len(answer.split()),
                },
            },
            headers=headers,
        )


def _last_user(body: dict[str, Any]) -> str:
    return next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    fake = FakeGateway()
    app = Starlette(routes=[Route("/v1/chat/completions", fake.handle, methods=["POST"])])
    with serve_in_thread(app) as url:
        fake.url = url
        yield fake
