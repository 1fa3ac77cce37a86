"""The examples in docs/evaluation.md are real: the suite example loads, the policy example parses."""

import re
from pathlib import Path

import yaml

from interlock.evaluation import parse_suite

DOC = Path(__file__).resolve().parents[2] / "docs" / "evaluation.md"


def blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)


def test_suite_example_loads():
    [example] = blocks("jsonl")
    suite = parse_suite(example, "example.jsonl")
    assert suite.name == "support-triage" and len(suite.items) == 4
    assert suite.item("charge-twice").options.labels == ["billing", "technical", "account"]
    assert suite.item("add").category == "code"


def test_yaml_examples_parse():
    header, policy = (yaml.safe_load(block) for block in blocks("yaml"))
    assert header["items"] == "support-triage.jsonl"
    assert policy["kind"] == "interlock.quality_table" and set(policy["routes"]) <= set(
        policy["quality"]["smollm2-135m"]
    )
