"""Training is reproducible, and bad training data fails with the file and line named."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from interlock.routing.classifier.dataset import TRAIN_FILE, load_prompts
from interlock.routing.classifier.model import RequestClassifier
from interlock.routing.classifier.train import TrainSettings, fit_artifact


def test_training_twice_gives_identical_weights(tmp_path: Path) -> None:
    prompts = load_prompts(TRAIN_FILE)[::4]  # a quarter of the set keeps this test quick
    first, second = fit_artifact(prompts, TrainSettings()), fit_artifact(prompts, TrainSettings())
    np.testing.assert_array_equal(first.coef, second.coef)
    np.testing.assert_array_equal(first.difficulty_coef, second.difficulty_coef)
    assert first.score_scale == second.score_scale
    assert first.vectorizer.feature_names() == second.vectorizer.feature_names()
    path = tmp_path / "model.joblib"
    first.save(path)
    reloaded = RequestClassifier.load(path).classify_text("Translate to Italian: thank you")
    fresh = RequestClassifier(second).classify_text("Translate to Italian: thank you")
    assert (reloaded.category, reloaded.probabilities, reloaded.difficulty, reloaded.top_features) == (
        fresh.category,
        fresh.probabilities,
        fresh.difficulty,
        fresh.top_features,
    )


def test_training_set_meets_the_size_and_label_rules() -> None:
    prompts = load_prompts(TRAIN_FILE)
    counts: dict[str, int] = {}
    for p in prompts:
        counts[p.category] = counts.get(p.category, 0) + 1
    assert len(counts) == 10 and min(counts.values()) >= 85
    assert len({p.text for p in prompts}) == len(prompts)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "train.jsonl:2: not valid JSON"),
        (
            '{"text": "", "category": "code", "difficulty": 0.2}',
            "train.jsonl:2: 'text' must be a non-empty string",
        ),
        (
            '{"text": "hi", "category": "poetry", "difficulty": 0.2}',
            "train.jsonl:2: unknown category 'poetry'",
        ),
        (
            '{"text": "hi", "category": "code", "difficulty": 1.5}',
            "train.jsonl:2: 'difficulty' must be a number in [0, 1]",
        ),
    ],
)
def test_bad_lines_are_reported_with_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "train.jsonl"
    path.write_text(
        '{"text": "hello", "category": "general_chat", "difficulty": 0.1}\n' + line + "\n", encoding="utf-8"
    )
    with pytest.raises(ValueError) as caught:
        load_prompts(path)
    assert str(caught.value).startswith(message)
