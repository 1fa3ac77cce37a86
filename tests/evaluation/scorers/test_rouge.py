import pytest

from interlock.evaluation.scorers import ScoringContext, scorer_type
from interlock.evaluation.scorers.rouge import lcs_length, rouge_l, tokenize


def test_tokenize_matches_the_reference_implementation():
    assert tokenize("The Cat's hat, 2 times!") == ["the", "cat", "s", "hat", "2", "times"]


def test_lcs_and_rouge_l_by_hand():
    assert lcs_length(["a", "b", "c", "d", "e"], ["a", "c", "e", "f"]) == 3
    precision, recall, f1 = rouge_l("the cat sat on the mat", "the cat was on the mat")
    assert (precision, recall) == (5 / 6, 5 / 6)
    assert f1 == pytest.approx(5 / 6)
    assert rouge_l("", "anything") == (0.0, 0.0, 0.0)


def test_rouge_scorer_uses_the_best_reference(make_item):
    item = make_item(
        "rouge_l",
        ["completely different words", "police arrested two men on friday"],
        category="summarization",
    )
    scorer = scorer_type("rouge_l").build(item.options, ScoringContext())
    good = scorer.score(item, "Police arrested two men on Friday.")
    bad = scorer.score(item, "The weather was sunny.")
    assert good.value == 1.0 and bad.value == 0.0
    partial = scorer.score(item, "Two men were arrested by police.")
    assert 0.0 < partial.value < 1.0 and partial.detail.startswith("ROUGE-L")
