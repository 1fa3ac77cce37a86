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


def test_a_line_separator_inside_a_prompt_is_data_not_a_line_break(tmp_path) -> None:
    """RouteLLM's MMLU prompts hold U+2028; ``str.splitlines`` used to cut such a row in two."""
    from interlock.evaluation import ItemResult, Results, ResultsHeader

    prompt = [{"role": "user", "content": "first\u2028second\x1cthird"}]
    results = Results(header=ResultsHeader(suite="s", models=["m"]),
                      items=[ItemResult(item_id="a", model="m", category="t", messages=prompt, score=1.0)])
    path = tmp_path / "r.jsonl.gz"
    import gzip

    path.write_bytes(gzip.compress(results.to_jsonl().encode()))
    assert Results.read_jsonl(path).items[0].messages == prompt
