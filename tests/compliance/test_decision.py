"""Deciding which deployments a request may go to; refusing with NoCompliantModel when none may."""

from __future__ import annotations

from interlock.compliance import CompliancePolicy, DataClass, DeploymentAttributes, decide
from interlock.compliance.scanning import SensitivityReport, scan_request
from interlock.errors import NoCompliantModel, PermissionDenied

POLICY = CompliancePolicy.model_validate(
    {
        "rules": [
            {
                "name": "phi-stays-in",
                "data_classes": ["health"],
                "require_any": [{"perimeter": "internal"}, {"agreements": ["hipaa_baa"]}],
            },
            {
                "name": "pii-redact-abroad",
                "data_classes": ["personal"],
                "action": "redact",
                "require_any": [{"perimeter": "internal"}],
            },
            {"name": "no-secrets", "data_classes": ["secret"], "action": "block"},
        ],
        "teams": {"eu-legal": [{"name": "eu-only", "always": True, "require_any": [{"region": "eu"}]}]},
        "keys": {
            "key-trial": [
                {"name": "trial-internal", "always": True, "require_any": [{"perimeter": "internal"}]}
            ]
        },
    }
)
CANDIDATES = {
    "local-llama": DeploymentAttributes(perimeter="internal", region="us"),
    "gpt-us": DeploymentAttributes(perimeter="external", region="us", agreements=frozenset({"hipaa_baa"})),
    "claude-eu": DeploymentAttributes(perimeter="external", region="eu"),
}


def _report(text: str) -> SensitivityReport:
    return scan_request({"messages": [{"role": "user", "content": text}]})


def test_clean_request_may_go_anywhere_and_no_rule_applies() -> None:
    decision = decide(_report("Summarise this memo."), POLICY, CANDIDATES)
    assert decision.allowed == ("local-llama", "gpt-us", "claude-eu")
    assert decision.rules == () and decision.verdict("gpt-us").action == "allow"


def test_phi_goes_only_inside_or_under_a_baa() -> None:
    decision = decide(_report("Patient was diagnosed with asthma."), POLICY, CANDIDATES)
    assert decision.data_classes == {DataClass.HEALTH}
    assert decision.allowed == ("local-llama", "gpt-us")
    outcome = decision.verdict("claude-eu").outcomes[0]
    assert (outcome.rule, outcome.satisfied, outcome.effect) == ("phi-stays-in", False, "exclude")


def test_redact_rule_allows_external_deployments_with_redaction() -> None:
    decision = decide(_report("Email jane.roe@example.com"), POLICY, CANDIDATES)
    assert decision.allowed == ("local-llama", "gpt-us", "claude-eu")
    assert decision.verdict("local-llama").redact_classes == frozenset()
    assert decision.verdict("gpt-us").redact_classes == {DataClass.PERSONAL}
    assert decision.verdict("gpt-us").action == "redact"


def test_block_refuses_everywhere_and_names_class_and_rule() -> None:
    decision = decide(_report("password: hunter2!"), POLICY, CANDIDATES)
    assert decision.allowed == ()
    error = decision.refusal()
    assert isinstance(error, NoCompliantModel) and isinstance(error, PermissionDenied)
    body = error.to_openai()["error"]
    assert (error.status, body["type"], body["code"]) == (403, "permission_error", "no_compliant_model")
    assert "secret" in body["message"] and "no-secrets" in body["message"]
    assert error.rules == ("no-secrets",) and error.data_classes == ("secret",)
    assert not error.retryable


def test_fails_closed_when_only_non_compliant_deployments_are_up() -> None:
    only_external = {"claude-eu": CANDIDATES["claude-eu"]}
    decision = decide(_report("MRN: 00456789"), POLICY, only_external)
    assert decision.allowed == ()
    message = decision.refusal().message
    assert "health" in message and "phi-stays-in" in message and "perimeter=internal" in message


def test_no_candidates_at_all_is_a_refusal_too() -> None:
    message = decide(_report("MRN: 00456789"), POLICY, {}).refusal().message
    assert "no deployment was available" in message


def test_team_and_key_rules_add_to_the_global_ones() -> None:
    clean = _report("Draft a reply.")
    assert decide(clean, POLICY, CANDIDATES, team="eu-legal").allowed == ("claude-eu",)
    assert decide(clean, POLICY, CANDIDATES, key="key-trial").allowed == ("local-llama",)
    phi = _report("Patient was diagnosed with asthma.")
    decision = decide(phi, POLICY, CANDIDATES, team="eu-legal")
    assert decision.allowed == ()
    assert "phi-stays-in" in decision.refusal().message and "eu-only" in decision.refusal().message


def test_decision_explains_itself_and_yields_an_audit_entry() -> None:
    decision = decide(_report("Email jane.roe@example.com"), POLICY, CANDIDATES)
    explained = decision.to_dict()
    assert explained["data_classes"] == ["personal"]
    assert [d["action"] for d in explained["deployments"]] == ["route", "redact", "redact"]
    entry = decision.audit_entry(request_id="req-1", config_hash="c0ffee", deployment="gpt-us", team="ops")
    assert (entry.action, entry.perimeter, entry.region, tuple(entry.rules)) == (
        "redact",
        "external",
        "us",
        ("pii-redact-abroad",),
    )
    refused = decide(_report("password: hunter2!"), POLICY, CANDIDATES)
    assert refused.audit_entry(request_id="req-2", config_hash="c0ffee", deployment=None).action == "block"
