import json

from interlock.evaluation import TaskCategory, parse_suite


def _suite(**overrides):
    item = {
        "id": "a",
        "category": "code",
        "scorer": "contains",
        "expected": "x",
        "messages": [{"role": "user", "content": "hi"}],
        **overrides,
    }
    return parse_suite(json.dumps(item), "s.jsonl")


def test_prompt_hash_follows_what_is_sent():
    base = _suite().items[0]
    assert _suite(expected="other").items[0].prompt_hash == base.prompt_hash
    assert _suite(max_tokens=5).items[0].prompt_hash != base.prompt_hash
    assert _suite(messages=[{"role": "user", "content": "hello"}]).items[0].prompt_hash != base.prompt_hash


def test_scoring_key_follows_how_it_is_scored():
    base = _suite().items[0]
    assert _suite(max_tokens=5).items[0].scoring_key == base.scoring_key
    assert _suite(expected="other").items[0].scoring_key != base.scoring_key
    assert _suite(scorer_options={"mode": "all"}).items[0].scoring_key != base.scoring_key


def test_categories_follow_the_canonical_order():
    lines = [
        {
            "id": str(i),
            "category": c,
            "scorer": "contains",
            "expected": "x",
            "messages": [{"role": "user", "content": "hi"}],
        }
        for i, c in enumerate(["code", "extraction", "code"])
    ]
    suite = parse_suite("\n".join(json.dumps(line) for line in lines), "s.jsonl")
    assert suite.categories == [TaskCategory.EXTRACTION, TaskCategory.CODE]
    assert suite.item("1").category == "extraction" and suite.name == "s"


def test_json_schemas_reject_unknown_keys():
    from interlock.evaluation.suite import suite_json_schemas

    schemas = suite_json_schemas()
    assert schemas["item"]["additionalProperties"] is False
    assert "extraction" in str(schemas["item"]) and schemas["header"]["required"] == ["name"]
