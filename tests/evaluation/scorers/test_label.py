import pytest

from interlock.evaluation.scorers import ScoringContext, scorer_type
from interlock.evaluation.scorers.label import find_label

LABELS = ["positive", "negative", "neutral"]


@pytest.mark.parametrize(
    ("output", "label"),
    [
        ("positive", "positive"),
        ("Negative.", "negative"),
        ("**Neutral** - the review states facts only.", "neutral"),
        ("After reading the review carefully, the sentiment is negative.", "negative"),
        ("I'd say this leans negative overall, though not extremely.", "negative"),
        ("Label: positive\nThe customer praises the battery; nothing negative is said.", "positive"),
        ("The tone is hard to judge.", None),
    ],
)
def test_find_label_in_verbose_answers(output, label):
    assert find_label(output, LABELS) == label


def test_longer_labels_win_over_labels_they_contain():
    assert find_label("very positive", ["positive", "very positive"]) == "very positive"


def test_label_scorer_right_and_wrong(make_item):
    item = make_item(
        "label", "billing", {"labels": ["billing", "technical", "account"]}, category="classification"
    )
    scorer = scorer_type("label").build(item.options, ScoringContext())
    assert scorer.score(item, "Category: Billing").value == 1.0
    wrong = scorer.score(item, "This is a technical issue.")
    assert wrong.value == 0.0 and "expected 'billing'" in wrong.detail
    assert scorer.score(item, "").detail == "no label found"
