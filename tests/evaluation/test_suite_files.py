import json

import pytest

from interlock.evaluation import SuiteError, load_suite, parse_suite

USER = [{"role": "user", "content": "hi"}]


def jsonl(*lines):
    return "\n".join(json.dumps(line) for line in lines) + "\n"


def problems(text, source="sample.jsonl"):
    with pytest.raises(SuiteError) as caught:
        parse_suite(text, source)
    return str(caught.value).splitlines()


def test_header_defaults_apply_to_items():
    suite = parse_suite(
        jsonl(
            {
                "suite": {
                    "name": "s",
                    "version": "2",
                    "defaults": {
                        "category": "classification",
                        "scorer": "label",
                        "scorer_options": {"labels": ["a", "b"]},
                        "max_tokens": 8,
                        "system": "Answer with one word.",
                    },
                }
            },
            {"id": "one", "messages": USER, "expected": "a"},
            {"id": "two", "messages": USER, "expected": "b", "max_tokens": 4, "category": "general_chat"},
            {"id": "three", "messages": USER, "expected": "x", "scorer": "exact"},
        ),
        "s.jsonl",
    )
    one, two, three = suite.items
    assert (suite.name, suite.version) == ("s", "2")
    assert one.request_body() == {
        "messages": [
            {"role": "system", "content": "Answer with one word."},
            {"role": "user", "content": "hi"},
        ],
        "temperature": 0.0,
        "max_tokens": 8,
    }
    assert one.options.labels == ["a", "b"] and one.line == 2
    assert (two.max_tokens, two.category) == (4, "general_chat")
    assert three.scorer == "exact"  # a different scorer does not inherit the default's options


def test_errors_name_file_line_and_field_path():
    lines = problems(
        jsonl(
            {"suite": {"name": "s", "defaults": {"category": "classification", "scorer": "label"}}},
            {"id": "ok", "messages": USER, "expected": "a"},
            {"id": "no-expected", "messages": USER},
            {"id": "bad-role", "messages": [{"role": "robot", "content": "hi"}], "expected": "a"},
            {"id": "typo", "messages": USER, "expected": "a", "max_token": 5},
            {"id": "ok", "messages": USER, "expected": "a"},
            {"id": "bad-options", "messages": USER, "scorer": "code", "scorer_options": {"tests": ""}},
            {"id": "bad-category", "messages": USER, "expected": "a", "category": "poetry slam!"},
        )
        + "{not json\n"
    )
    assert lines[0] == "sample.jsonl:3: items.expected: field required (scorer 'label')"
    assert lines[1].startswith("sample.jsonl:4: items.messages[0].role: input should be 'system'")
    assert lines[2] == "sample.jsonl:5: items.max_token: extra inputs are not permitted"
    assert lines[3] == "sample.jsonl:6: items.id: duplicate id 'ok' (first on line 2)"
    assert lines[4].startswith("sample.jsonl:7: items.scorer_options.tests: string should have at least 1")
    # any task label is allowed (the customer's own tasks), but it must be a plain identifier
    assert lines[5].startswith("sample.jsonl:8: items.category: string should match pattern")
    assert lines[6].startswith("sample.jsonl:9: not valid JSON")
    assert len(lines) == 7


def test_expected_is_checked_against_the_scorer():
    lines = problems(
        jsonl(
            {
                "id": "a",
                "messages": USER,
                "category": "extraction",
                "scorer": "json_fields",
                "expected": "text",
            },
            {"id": "b", "messages": USER, "category": "code", "scorer": "exact", "expected": 3},
            {"id": "c", "messages": USER, "category": "code", "scorer": "regex", "expected": "(unclosed"},
            {
                "id": "d",
                "messages": USER,
                "category": "code",
                "scorer": "llm_judge",
                "scorer_options": {"mode": "pairwise"},
            },
        )
    )
    assert lines == [
        "sample.jsonl:1: items.expected: input should be a valid dictionary",
        "sample.jsonl:2: items.expected: must be str or list[str]",
        "sample.jsonl:3: items.expected: not a valid regular expression: missing ), unterminated subpattern "
        "at position 0",
        "sample.jsonl:4: items.expected: field required (scorer 'llm_judge')",
    ]


def test_missing_category_scorer_and_unknown_scorer():
    lines = problems(
        jsonl(
            {"id": "a", "messages": USER},
            {"id": "b", "messages": USER, "category": "code", "scorer": "bleu"},
        )
    )
    assert lines[0] == "sample.jsonl:1: items.category: field required (no suite default)"
    assert lines[1] == "sample.jsonl:1: items.scorer: field required (no suite default)"
    assert lines[2].startswith("sample.jsonl:2: items.scorer: unknown scorer 'bleu' (known: code, contains")


def test_header_errors_and_misplaced_header():
    lines = problems(
        jsonl(
            {"suite": {"name": "s", "defaults": {"max_tokens": 0}}},
            {"suite": {"name": "again"}},
        )
    )
    assert lines[0] == "sample.jsonl:1: suite.defaults.max_tokens: input should be greater than or equal to 1"
    assert lines[1] == "sample.jsonl:2: suite: unexpected suite header: it must be the first line"


def test_empty_suite_is_an_error():
    assert problems("\n\n") == ["sample.jsonl: the suite has no items"]


def test_yaml_suite_file_with_line_numbers(tmp_path):
    (tmp_path / "items.jsonl").write_text(jsonl({"id": "a", "messages": USER, "expected": "yes"}))
    (tmp_path / "suite.yaml").write_text(
        "name: support\ndefaults:\n  category: customer_support\n  scorer: contains\n  max_tokens: 32\n"
        "items: items.jsonl\n"
    )
    suite = load_suite(tmp_path / "suite.yaml")
    assert suite.name == "support" and suite.items[0].max_tokens == 32
    (tmp_path / "bad.yaml").write_text("name: support\ndefaults:\n  temperature: 5\nitems: items.jsonl\n")
    with pytest.raises(SuiteError) as caught:
        load_suite(tmp_path / "bad.yaml")
    assert str(caught.value).endswith(
        "bad.yaml:3: suite.defaults.temperature: input should be less than or equal to 2"
    )


def test_missing_file():
    with pytest.raises(SuiteError, match=r"nope\.jsonl: cannot read"):
        load_suite("nope.jsonl")
