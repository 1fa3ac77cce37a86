import json

import pytest

from interlock.evaluation import RetryPolicy, parse_suite, run_suite_async
from interlock.evaluation.progress import NoProgress
from interlock.evaluation.scorers import ScorerConfigError

FAST_RETRY = RetryPolicy(attempts=3, base_delay_s=0.01, max_delay_s=0.02)

LINES = [
    {"suite": {"name": "mini", "defaults": {"max_tokens": 16}}},
    {
        "id": "sentiment",
        "category": "classification",
        "scorer": "label",
        "scorer_options": {"labels": ["positive", "negative"]},
        "expected": "positive",
        "messages": [{"role": "user", "content": "Review: great phone. Sentiment?"}],
    },
    {
        "id": "invoice",
        "category": "extraction",
        "scorer": "json_fields",
        "expected": {"total": 42, "currency": "EUR"},
        "messages": [{"role": "user", "content": "Invoice total 42 EUR. JSON?"}],
    },
    {
        "id": "sum",
        "category": "multi_step_reasoning",
        "scorer": "number",
        "expected": 12,
        "messages": [{"role": "user", "content": "3 boxes of 4 apples?"}],
    },
    {
        "id": "flaky",
        "category": "classification",
        "scorer": "exact",
        "expected": "ok",
        "messages": [{"role": "user", "content": "flaky prompt"}],
    },
]


def make_suite(lines=LINES):
    return parse_suite("\n".join(json.dumps(line) for line in lines), "mini.jsonl")


def script(gateway):
    gateway.answers.update(
        {
            ("big", "Review: great phone. Sentiment?"): "positive",
            ("small", "Review: great phone. Sentiment?"): "The sentiment is negative.",
            ("big", "Invoice total 42 EUR. JSON?"): '```json\n{"total": 42, "currency": "EUR"}\n```',
            ("small", "Invoice total 42 EUR. JSON?"): '{"total": 42, "currency": "USD"}',
            ("big", "3 boxes of 4 apples?"): "3 * 4 = 12",
            ("small", "3 boxes of 4 apples?"): "7",
            ("big", "flaky prompt"): "ok",
            ("small", "flaky prompt"): "ok",
        }
    )
    gateway.costs["big"] = 0.002
    gateway.delays["big"] = 0.05


async def run(gateway, suite, cache_path, models=("big", "small"), **kwargs):
    return await run_suite_async(
        suite,
        list(models),
        base_url=gateway.url,
        api_key="sk-test",
        concurrency=2,
        cache_path=cache_path,
        progress=NoProgress(),
        retry=FAST_RETRY,
        **kwargs,
    )


async def test_scores_costs_tokens_and_latency_are_recorded(gateway, tmp_path):
    script(gateway)
    results = await run(gateway, make_suite(), tmp_path / "cache.sqlite")
    by = {(r.model, r.item_id): r for r in results.items}
    assert [by[("big", i)].score for i in ("sentiment", "invoice", "sum", "flaky")] == [1.0, 1.0, 1.0, 1.0]
    assert [by[("small", i)].score for i in ("sentiment", "invoice", "sum", "flaky")] == [0.0, 0.5, 0.0, 1.0]
    big = by[("big", "invoice")]
    assert big.cost_usd == 0.002 and by[("small", "invoice")].cost_usd is None
    assert big.model_version == "big@1" and big.category == "extraction"
    assert big.prompt_tokens == 5 and big.completion_tokens == 6
    assert big.latency_ms is not None and big.latency_ms >= 50
    assert not big.cached and big.error is None
    request = gateway.calls("big", "Invoice total 42 EUR. JSON?")[0]
    assert request["max_tokens"] == 16 and request["temperature"] == 0 and request["stream"] is False


async def test_transient_503_is_retried(gateway, tmp_path):
    script(gateway)
    gateway.failures["flaky prompt"] = [503, 429]
    results = await run(gateway, make_suite(), tmp_path / "cache.sqlite", models=["big"])
    flaky = next(r for r in results.items if r.item_id == "flaky")
    assert flaky.score == 1.0 and flaky.error is None
    assert len(gateway.calls("big", "flaky prompt")) == 3


async def test_client_errors_are_not_retried_and_not_cached(gateway, tmp_path):
    script(gateway)
    gateway.failures["flaky prompt"] = [400]
    cache = tmp_path / "cache.sqlite"
    first = await run(gateway, make_suite(), cache, models=["big"])
    failed = next(r for r in first.items if r.item_id == "flaky")
    assert failed.score is None and failed.error.startswith("HTTP 400") and "after 1 attempt" in failed.error
    assert len(gateway.calls("big", "flaky prompt")) == 1
    second = await run(gateway, make_suite(), cache, models=["big"])
    assert next(r for r in second.items if r.item_id == "flaky").score == 1.0
    assert len(gateway.calls("big", "flaky prompt")) == 2  # only the failed item went out again
    assert len(gateway.calls()) == 5


async def test_rerun_is_served_from_the_cache(gateway, tmp_path):
    script(gateway)
    cache = tmp_path / "cache.sqlite"
    first = await run(gateway, make_suite(), cache)
    seen = len(gateway.calls())
    assert seen == 8
    second = await run(gateway, make_suite(), cache)
    assert len(gateway.calls()) == seen  # the server saw no second request
    assert all(r.cached for r in second.items)
    assert [(r.score, r.cost_usd, r.output) for r in second.items] == [
        (r.score, r.cost_usd, r.output) for r in first.items
    ]


async def test_resume_after_interruption_does_only_the_missing_items(gateway, tmp_path):
    script(gateway)
    cache = tmp_path / "cache.sqlite"
    await run(gateway, make_suite(LINES[:3]), cache)  # the run "stopped" after two items
    assert len(gateway.calls()) == 4
    results = await run(gateway, make_suite(), cache)
    assert len(gateway.calls()) == 8
    assert {r.item_id for r in results.items if not r.cached} == {"sum", "flaky"}


async def test_changed_prompt_is_not_served_from_the_cache(gateway, tmp_path):
    script(gateway)
    cache = tmp_path / "cache.sqlite"
    await run(gateway, make_suite(), cache, models=["big"])
    changed = [LINES[0] | {"suite": {"name": "mini", "defaults": {"max_tokens": 32}}}, *LINES[1:]]
    await run(gateway, make_suite(changed), cache, models=["big"])
    assert len(gateway.calls()) == 8


async def test_a_new_model_version_invalidates_cached_completions(gateway, tmp_path):
    script(gateway)
    cache = tmp_path / "cache.sqlite"
    await run(gateway, make_suite(LINES[:3]), cache, models=["big"])
    gateway.versions["big"] = "big@2"
    results = await run(gateway, make_suite(), cache, models=["big"])
    # two new items reveal big@2, so the two cached big@1 completions are redone
    assert len(gateway.calls()) == 2 + 2 + 2
    assert {r.model_version for r in results.items} == {"big@2"}
    assert not any(r.cached for r in results.items)


async def test_judge_scores_are_cached_with_the_completion(gateway, tmp_path):
    lines = [
        {
            "id": "help",
            "category": "customer_support",
            "scorer": "llm_judge",
            "messages": [{"role": "user", "content": "How do I reset my password?"}],
        }
    ]
    gateway.default_answers.update({"judge": "Score: 9", "small": "Use Settings > Security."})
    cache = tmp_path / "cache.sqlite"
    first = await run(gateway, make_suite(lines), cache, models=["small"], judge_model="judge")
    assert first.items[0].score == 0.9
    await run(gateway, make_suite(lines), cache, models=["small"], judge_model="judge")
    assert len(gateway.calls("judge")) == 1 and len(gateway.calls("small")) == 1


async def test_missing_judge_model_fails_before_any_call(gateway, tmp_path):
    lines = [
        {
            "id": "help",
            "category": "customer_support",
            "scorer": "llm_judge",
            "messages": [{"role": "user", "content": "Hi"}],
        }
    ]
    with pytest.raises(ScorerConfigError):
        await run(gateway, make_suite(lines), None, models=["small"])
    assert gateway.calls() == []


async def test_results_round_trip_through_jsonl(gateway, tmp_path):
    script(gateway)
    results = await run(gateway, make_suite(), None)
    path = tmp_path / "results.jsonl"
    results.write_jsonl(path)
    from interlock.evaluation import Results

    assert Results.read_jsonl(path) == results
