from interlock.evaluation.scorers import ScoringContext, scorer_type
from interlock.evaluation.scorers.json_fields import extract_json_object, flatten

EXPECTED = {
    "name": "Ana Silva",
    "company": "Acme",
    "amount": 120.5,
    "address": {"city": "Lisbon", "zip": None},
}


def _score(make_item, output, options=None):
    item = make_item("json_fields", EXPECTED, options, category="extraction")
    return scorer_type("json_fields").build(item.options, ScoringContext()).score(item, output)


def test_perfect_answer_inside_a_json_fence(make_item):
    output = (
        'Here you go:\n```json\n{"name": "ana silva", "company": "Acme", "amount": "120.50", '
        '"address": {"city": "Lisbon"}}\n```'
    )
    assert _score(make_item, output).value == 1.0


def test_partial_answer_gets_field_level_f1(make_item):
    output = '{"name": "Ana Silva", "company": "Globex", "amount": 120.5, "phone": "555"}'
    score = _score(make_item, output)
    precision, recall = 2 / 4, 2 / 4  # name and amount right; company wrong; phone extra; city missing
    assert abs(score.value - 2 * precision * recall / (precision + recall)) < 1e-9
    assert "address.city" in score.detail and "company" in score.detail


def test_precision_and_recall_metrics_and_field_subset(make_item):
    output = '{"name": "Ana Silva"}'
    assert _score(make_item, output, {"metric": "precision"}).value == 1.0
    assert _score(make_item, output, {"metric": "recall"}).value == 0.25
    assert _score(make_item, output, {"fields": ["name"]}).value == 1.0


def test_no_json_scores_zero(make_item):
    score = _score(make_item, "The name is Ana Silva.")
    assert score.value == 0.0 and score.detail == "no JSON object found"


def test_tolerant_extraction():
    assert extract_json_object('Sure! {"a": {"b": "}"}, "c": [1, 2,],} trailing') == {
        "a": {"b": "}"},
        "c": [1, 2],
    }
    assert extract_json_object('```json\n{"a": 1}') == {"a": 1}  # fence cut off by max_tokens
    assert extract_json_object('{"q": "say \\"hi\\" {"} and more') == {"q": 'say "hi" {'}
    assert extract_json_object("[1, 2]") is None
    assert flatten({"a": {"b": 1, "c": None}, "d": []}) == {"a.b": 1, "d": []}


def test_lists_compare_as_unordered_multisets(make_item):
    item = make_item("json_fields", {"tags": ["b", "a"]}, category="extraction")
    scorer = scorer_type("json_fields").build(item.options, ScoringContext())
    assert scorer.score(item, '{"tags": ["A", "b"]}').value == 1.0
    assert scorer.score(item, '{"tags": ["a"]}').value == 0.0
