import pytest

from interlock.evaluation import ItemResult, Results, ResultsFileError, ResultsHeader


def test_round_trip_and_strict_reading(tmp_path):
    results = Results(
        header=ResultsHeader(suite="s", models=["a"]),
        items=[ItemResult(item_id="1", model="a", category="code", score=1.0, cost_usd=0.001)],
    )
    path = tmp_path / "r.jsonl"
    results.write_jsonl(path)
    assert Results.read_jsonl(path) == results
    path.write_text(results.to_jsonl() + '{"item_id": "2", "model": "a", "category": "code", "score": 2}\n')
    with pytest.raises(ResultsFileError, match=r"r.jsonl:3: score: Input should be less than or equal to 1"):
        Results.read_jsonl(path)
    path.write_text('{"item_id": "2"}\n')
    with pytest.raises(ResultsFileError, match=r"r\.jsonl:1: the first line must be a results header"):
        Results.read_jsonl(path)
