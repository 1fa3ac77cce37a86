"""Compliance config: strict parsing, path-naming errors, requirement matching, the docs example."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from interlock.compliance import CompliancePolicy, DeploymentAttributes, Requirement, decide, scan_request

DOCS = Path(__file__).parents[2] / "docs" / "compliance.md"


def test_the_yaml_example_in_the_docs_parses() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    assert blocks, "docs/compliance.md lost its YAML example"
    document = yaml.safe_load(blocks[0])
    policy = CompliancePolicy.model_validate(document["compliance"])
    assert policy.rules and policy.teams
    for deployment in document["deployments"].values():
        DeploymentAttributes.model_validate(deployment["compliance"])


def test_the_refusal_shown_in_the_docs_is_what_the_docs_policy_produces() -> None:
    text = DOCS.read_text(encoding="utf-8")
    document = yaml.safe_load(re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)[0])
    shown = json.loads(re.findall(r"```json\n(.*?)```", text, re.DOTALL)[0])
    policy = CompliancePolicy.model_validate(document["compliance"])
    external_eu = DeploymentAttributes.model_validate(document["deployments"]["claude-eu"]["compliance"])
    report = scan_request({"messages": [{"role": "user", "content": "MRN: 00456789"}]})
    assert decide(report, policy, {"claude-eu": external_eu}).refusal().to_openai() == shown


def test_unknown_keys_are_rejected_with_their_path() -> None:
    with pytest.raises(ValidationError) as caught:
        CompliancePolicy.model_validate(
            {
                "rules": [
                    {"name": "phi", "data_classes": ["health"], "require_any": [{"perimiter": "internal"}]}
                ]
            }
        )
    assert "rules.0.require_any.0.perimiter" in str(caught.value)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"name": "r", "data_classes": ["health"]}, "needs require_any"),
        (
            {
                "name": "r",
                "data_classes": ["secret"],
                "action": "block",
                "require_any": [{"perimeter": "internal"}],
            },
            "refuses outright",
        ),
        ({"name": "r", "always": True, "action": "redact"}, "not to always"),
        ({"name": "r", "require_any": [{"region": "eu"}]}, "either data_classes or always"),
        ({"name": "r", "data_classes": ["gossip"], "require_any": [{"region": "eu"}]}, "data_classes.0"),
        ({"name": "r", "data_classes": ["health"], "require_any": [{}]}, "at least one of|needs one of"),
    ],
)
def test_incoherent_rules_are_refused(rule: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        CompliancePolicy.model_validate({"rules": [rule]})


def test_rule_names_are_unique_across_scopes() -> None:
    rule = {"name": "eu", "always": True, "require_any": [{"region": "eu"}]}
    with pytest.raises(ValidationError, match="used twice"):
        CompliancePolicy.model_validate({"rules": [rule], "teams": {"legal": [rule]}})


def test_requirement_matching() -> None:
    internal_us = DeploymentAttributes(perimeter="internal", region="us")
    external_eu = DeploymentAttributes(
        perimeter="external", region="eu-west-1", retention="30d", agreements={"gdpr_dpa"}
    )
    assert Requirement(perimeter="internal").satisfied_by(internal_us)
    assert not Requirement(perimeter="internal").satisfied_by(external_eu)
    assert Requirement(region="eu").satisfied_by(external_eu)  # eu covers eu-west-1
    assert not Requirement(region="eu-central-1").satisfied_by(external_eu)
    assert Requirement(agreements=["gdpr_dpa"], max_retention_days=30).satisfied_by(external_eu)
    assert not Requirement(max_retention_days=0).satisfied_by(external_eu)
    assert not Requirement(max_retention_days=365).satisfied_by(internal_us)  # unknown retention is unlimited


def test_deployment_attribute_values_are_checked() -> None:
    with pytest.raises(ValidationError, match="retention"):
        DeploymentAttributes(perimeter="internal", region="eu", retention="a while")
    with pytest.raises(ValidationError, match="region"):
        DeploymentAttributes(perimeter="internal", region="EU West")
    with pytest.raises(ValidationError):
        DeploymentAttributes(perimeter="dmz", region="eu")  # type: ignore[arg-type]


def test_fingerprint_is_stable_and_changes_with_the_policy() -> None:
    doc = {"rules": [{"name": "phi", "data_classes": ["health"], "require_any": [{"perimeter": "internal"}]}]}
    a, b = CompliancePolicy.model_validate(doc), CompliancePolicy.model_validate(doc)
    assert a.fingerprint() == b.fingerprint() and len(a.fingerprint()) == 64
    doc["rules"][0]["action"] = "redact"
    assert CompliancePolicy.model_validate(doc).fingerprint() != a.fingerprint()
