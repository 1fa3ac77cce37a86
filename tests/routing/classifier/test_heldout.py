"""The shipped classifier against the independently written held-out set (docs/classifier.md)."""

from __future__ import annotations

import pytest

from interlock.routing.classifier import RequestClassifier
from interlock.routing.classifier.dataset import HELDOUT_FILE, TRAIN_FILE, load_prompts, near_duplicates
from interlock.routing.classifier.evaluate import evaluate

# The floor documented in docs/classifier.md. v1 measures 0.919; the floor leaves room for a
# retrain under another scikit-learn release, and stays above the 0.85 target.
MACRO_F1_FLOOR = 0.90
PER_CATEGORY_F1_FLOOR = 0.80
DIFFICULTY_MAE_CEILING = 0.15


@pytest.fixture(scope="module")
def report() -> dict[str, object]:
    return evaluate(RequestClassifier.load(), load_prompts(HELDOUT_FILE))


def test_heldout_macro_f1_meets_documented_floor(report: dict[str, object]) -> None:
    assert report["macro_f1"] >= MACRO_F1_FLOOR  # type: ignore[operator]


def test_every_category_is_learned(report: dict[str, object]) -> None:
    per_category = report["per_category"]
    assert isinstance(per_category, dict) and len(per_category) == 10
    weak = {
        name: round(row["f1"], 3) for name, row in per_category.items() if row["f1"] < PER_CATEGORY_F1_FLOOR
    }
    assert not weak


def test_difficulty_tracks_the_heldout_labels(report: dict[str, object]) -> None:
    assert report["difficulty_mae"] <= DIFFICULTY_MAE_CEILING  # type: ignore[operator]
    assert report["difficulty_spearman"] >= 0.5  # type: ignore[operator]


def test_training_holds_no_near_duplicate_of_a_heldout_prompt() -> None:
    # Both sets were written independently, yet classic prompts recur ("Why is the sky blue?");
    # such training items were removed so the held-out score measures generalisation.
    pairs = near_duplicates(load_prompts(TRAIN_FILE), load_prompts(HELDOUT_FILE))
    assert not pairs
