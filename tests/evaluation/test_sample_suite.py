"""The shipped sample suite loads, covers the categories it promises, and is answerable: each item
scores 1 when given its own reference answer (code items: the reference solution passes its tests)."""

import json
from collections import Counter
from importlib import resources

import pytest

from interlock.evaluation import load_suite
from interlock.evaluation.scorers import ScoringContext, scorer_type

SAMPLE = resources.files("interlock") / "data" / "suites" / "sample.jsonl"


@pytest.fixture(scope="module")
def suite():
    return load_suite(str(SAMPLE))


def test_size_and_categories(suite):
    counts = Counter(item.category for item in suite.items)
    assert 60 <= len(suite.items) <= 100
    assert set(counts) == {
        "extraction",
        "classification",
        "summarization",
        "customer_support",
        "document_analysis",
        "code",
        "multi_step_reasoning",
    }
    assert min(counts.values()) >= 8
    assert all(item.max_tokens and item.max_tokens <= 120 for item in suite.items)


def reference_answer(item):
    if item.scorer == "json_fields":
        return json.dumps(item.expected)
    if item.scorer == "contains":
        return " ".join(item.expected)
    if item.scorer == "number":
        return f"The answer is {item.expected}"
    return item.expected  # label, rouge_l, code (a reference solution)


def test_every_item_scores_one_on_its_reference(suite):
    context = ScoringContext()
    failures = []
    for item in suite.items:
        score = scorer_type(item.scorer).build(item.options, context).score(item, reference_answer(item))
        if score.value != 1.0:
            failures.append(f"{item.id}: {score.detail}")
    assert failures == []
