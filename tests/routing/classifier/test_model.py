"""The shipped classifier artifact: loading, message shapes, explanations and determinism."""

from __future__ import annotations

import math
import time
from collections import Counter

import numpy as np
import pytest

from interlock.errors import InvalidRequest
from interlock.routing.classifier import DEFAULT_ARTIFACT, RequestClassifier, category_names
from interlock.routing.classifier.timing import sample_prompts


@pytest.fixture(scope="module")
def classifier() -> RequestClassifier:
    return RequestClassifier.load()


def test_artifact_is_small_and_versioned(classifier: RequestClassifier) -> None:
    assert DEFAULT_ARTIFACT.stat().st_size < 5 * 1024 * 1024
    assert classifier.categories == category_names()
    assert classifier.version.startswith("model-v1+")
    assert len(classifier.artifact.metadata["train_file_sha256"]) == 64


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        (
            [{"role": "user", "content": "Translate into Spanish: the pharmacy closes at nine tonight."}],
            "translation",
        ),
        (
            [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "text",
                            "text": "Write a Python function that parses ISO 8601 dates and add pytest tests.",
                        }
                    ],
                }
            ],
            "code",
        ),
        (
            [
                {"role": "system", "content": "You are the support assistant for Summit Bank. Be concise."},
                {
                    "role": "user",
                    "content": "I lost my debit card yesterday, can you block it and send me a new one?",
                },
            ],
            "customer_support",
        ),
        (
            [
                {
                    "role": "user",
                    "content": "A loan of $300,000 at 6% over 30 years: compute the monthly payment and the total interest, step by step.",
                }
            ],
            "multi_step_reasoning",
        ),
        ([{"role": "user", "content": "What is the current price of Bitcoin today?"}], "current_knowledge"),
        ([{"role": "user", "content": "hey, how's your day going?"}], "general_chat"),
    ],
)
def test_classifies_clear_requests_in_each_message_shape(
    classifier: RequestClassifier, messages: list[dict[str, object]], expected: str
) -> None:
    assert classifier.classify(messages).category == expected


def test_result_is_a_distribution_with_difficulty_and_reasons(classifier: RequestClassifier) -> None:
    result = classifier.classify(
        [
            {
                "role": "user",
                "content": "Summarize this memo in three bullets:\n\n"
                + "The branch will close early on Friday. " * 20,
            }
        ]
    )
    assert set(result.probabilities) == set(category_names())
    assert sum(result.probabilities.values()) == pytest.approx(1.0)
    assert result.confidence == max(result.probabilities.values())
    assert 0.0 <= result.difficulty <= 1.0
    assert result.top_features and all(f.weight > 0 for f in result.top_features)
    assert [f.weight for f in result.top_features] == sorted(
        (f.weight for f in result.top_features), reverse=True
    )
    assert result.category in result.explanation()
    assert result.to_dict()["model_version"] == classifier.version


def test_harder_requests_score_higher_difficulty(classifier: RequestClassifier) -> None:
    easy = classifier.classify([{"role": "user", "content": "hi there!"}])
    hard = classifier.classify(
        [
            {
                "role": "user",
                "content": "Derive the Black-Scholes price of a European put with S=90, K=100, r=4%, sigma=30%, T=1, then compute delta, gamma and vega and explain each step.",
            }
        ]
    )
    assert hard.difficulty > easy.difficulty + 0.2


def test_malformed_and_empty_content_raise_invalid_request(classifier: RequestClassifier) -> None:
    with pytest.raises(InvalidRequest) as caught:
        classifier.classify([{"role": "user", "content": "   "}])
    assert caught.value.status == 400 and caught.value.code == "empty_content"
    with pytest.raises(InvalidRequest) as caught:
        classifier.classify([{"role": "user", "content": 7}])
    assert caught.value.param == "messages[0].content"


def test_loading_and_classifying_are_deterministic(classifier: RequestClassifier) -> None:
    again = RequestClassifier.load()
    assert again.version == classifier.version
    messages = [
        {"role": "user", "content": "Extract the invoice number and due date from: INV-881, due 2024-03-01."}
    ]
    first, second = classifier.classify(messages), again.classify(messages)
    assert first == second
    assert first == classifier.classify(messages)


def test_feature_row_is_sublinear_tfidf_normalised_per_view(classifier: RequestClassifier) -> None:
    """The vectorised request path against a plain re-computation of the same formula."""
    vectorizer = classifier.artifact.vectorizer
    text = "Please translate into French: the the invoice is overdue, and the bank is closed today."
    row = vectorizer.transform_one(text)
    got = dict(zip(row.indices.tolist(), row.values.tolist()))
    for view in vectorizer.views:
        counts = Counter(view.vocabulary[g] for g in view.analyzer(view.select(text)) if g in view.vocabulary)
        raw = {col: (1.0 + math.log(n)) * vectorizer.idf[col] for col, n in counts.items()}
        norm = math.sqrt(sum(v * v for v in raw.values()))
        for col, value in raw.items():
            assert got[col] == pytest.approx(value / norm)
    assert (
        len(got)
        == sum(len(set(view.columns(view.analyzer(view.select(text))).tolist())) for view in vectorizer.views)
        + 8
    )


def test_long_prompts_stay_fast(classifier: RequestClassifier) -> None:
    # A loose regression guard (the benchmark measures properly): CPU time, not wall time,
    # so a busy shared machine does not make it flaky.
    prompts = sample_prompts(["The customer asked about the overdraft fee on the statement."] * 10, 2000, 20)
    spent = []
    for prompt in prompts:
        started = time.thread_time()
        classifier.classify([{"role": "user", "content": prompt}])
        spent.append(time.thread_time() - started)
    assert float(np.median(spent)) < 0.010
