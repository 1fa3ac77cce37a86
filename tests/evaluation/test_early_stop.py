"""A model whose first items all fail the same way is stopped early, with the cause on every item."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from interlock.evaluation import RetryPolicy, parse_suite, run_suite_async
from interlock.evaluation.progress import NoProgress
from interlock.evaluation.runner import EARLY_STOP_AFTER

NO_RETRY = RetryPolicy(attempts=1)
PROMPTS = [f"question {k}" for k in range(EARLY_STOP_AFTER + 3)]


def suite() -> Any:
    lines = [{"suite": {"name": "stop", "defaults": {"max_tokens": 8}}}]
    lines += [{"id": f"q{k}", "category": "general_chat", "scorer": "contains", "expected": "yes",
               "messages": [{"role": "user", "content": prompt}]} for k, prompt in enumerate(PROMPTS)]
    return parse_suite("\n".join(json.dumps(line) for line in lines), "stop.jsonl")


async def run(gateway: Any, tmp_path: Path) -> Any:
    return await run_suite_async(suite(), ["model"], base_url=gateway.url, concurrency=1,
                                 cache_path=tmp_path / "cache.sqlite", progress=NoProgress(), retry=NO_RETRY)


async def test_identical_failures_of_the_first_items_stop_the_model(gateway: Any, tmp_path: Path) -> None:
    for prompt in PROMPTS:
        gateway.failures[prompt] = [403]
    results = await run(gateway, tmp_path)

    assert len(gateway.calls("model")) == EARLY_STOP_AFTER  # the rest were not sent
    errors = [r.error for r in results.items]
    assert all(e is not None and "scripted failure" in e for e in errors)
    skipped = errors[EARLY_STOP_AFTER:]
    assert len(skipped) == 3
    assert all(e.startswith(f"not run: the first {EARLY_STOP_AFTER} items on model all failed with: HTTP 403")
               for e in skipped)


async def test_one_success_among_the_first_items_keeps_the_model_running(gateway: Any, tmp_path: Path) -> None:
    for prompt in PROMPTS[1:]:
        gateway.failures[prompt] = [403]
    gateway.default_answers["model"] = "yes"
    results = await run(gateway, tmp_path)

    assert len(gateway.calls("model")) == len(PROMPTS)
    assert results.items[0].error is None and results.items[0].score == 1.0
    assert not any((r.error or "").startswith("not run") for r in results.items)


async def test_different_failures_keep_the_model_running(gateway: Any, tmp_path: Path) -> None:
    for k, prompt in enumerate(PROMPTS):
        gateway.failures[prompt] = [403 if k % 2 else 404]
    await run(gateway, tmp_path)
    assert len(gateway.calls("model")) == len(PROMPTS)
