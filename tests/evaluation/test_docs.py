"""The examples in the docs are real: the suite example loads, the policy example validates."""

import re
from pathlib import Path

import yaml

from interlock.evaluation import parse_suite

DOCS = Path(__file__).resolve().parents[2] / "docs"
DOC = DOCS / "evaluation.md"


def blocks(language, doc=DOC):
    return re.findall(rf"```{language}\n(.*?)```", doc.read_text(encoding="utf-8"), re.DOTALL)


def test_suite_example_loads():
    [example] = blocks("jsonl")
    suite = parse_suite(example, "example.jsonl")
    assert suite.name == "support-triage" and len(suite.items) == 4
    assert suite.item("charge-twice").options.labels == ["billing", "technical", "account"]
    assert suite.item("add").category == "code"


def test_yaml_examples_parse():
    [header] = (yaml.safe_load(block) for block in blocks("yaml"))
    assert header["items"] == "support-triage.jsonl"


def test_the_routing_policy_example_is_a_valid_policy():
    from interlock.routing.policy_file import RoutingPolicy

    policy, config = (yaml.safe_load(block) for block in blocks("yaml", DOCS / "routing.md"))
    assert set(config["routing"]) == {"policy", "seed"}
    parsed = RoutingPolicy.model_validate(policy)
    assert parsed.tasks["claims_triage"].rule == "mix"
