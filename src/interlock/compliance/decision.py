"""The compliance step of routing: which candidate deployments a request may go to, and why.

``decide`` is pure: a report, a policy and the candidates' attributes in, an explainable
``ComplianceDecision`` out. It never raises for an empty result; the caller raises
``decision.refusal()`` (a ``NoCompliantModel``) so the request fails closed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from interlock.compliance.audit import AuditEntry, Recipient
from interlock.compliance.detection import DataClass
from interlock.compliance.policy import CompliancePolicy, ComplianceRule, DeploymentAttributes
from interlock.compliance.scanning import SensitivityReport
from interlock.errors import NoCompliantModel

# allow: the deployment meets the rule; redact: it may receive the request redacted;
# exclude: a route rule keeps it out; block: a block rule refuses the request everywhere.
Effect = Literal["allow", "redact", "exclude", "block"]


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    rule: str
    action: str
    triggered_by: tuple[DataClass, ...]  # empty for an ``always`` rule
    satisfied: bool
    effect: Effect
    # Classes a ``redact`` rule could not redact here (found in an object key or a number
    # parameter), which turned its effect into ``exclude``.
    unredactable: tuple[DataClass, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule,
            "action": self.action,
            "triggered_by": [c.value for c in self.triggered_by],
            "satisfied": self.satisfied,
            "effect": self.effect,
        }
        if self.unredactable:
            classes = ", ".join(c.value for c in self.unredactable)
            out["note"] = (
                f"{classes} data sits where it cannot be redacted (an object key or a number parameter)"
            )
        return out


@dataclass(frozen=True, slots=True)
class DeploymentVerdict:
    deployment: str
    attributes: DeploymentAttributes
    outcomes: tuple[RuleOutcome, ...]

    @property
    def allowed(self) -> bool:
        return all(o.effect in ("allow", "redact") for o in self.outcomes)

    @property
    def redact_classes(self) -> frozenset[DataClass]:
        """Data classes to redact before sending here (empty: send the request as it is)."""
        return frozenset(c for o in self.outcomes if o.effect == "redact" for c in o.triggered_by)

    @property
    def action(self) -> str:
        """The single word the audit log records for sending (or not) to this deployment."""
        if any(o.effect == "block" for o in self.outcomes):
            return "block"
        if not self.allowed:
            return "exclude"
        if self.redact_classes:
            return "redact"
        return "route" if self.outcomes else "allow"

    def to_dict(self) -> dict[str, Any]:
        return {
            "deployment": self.deployment,
            "allowed": self.allowed,
            "action": self.action,
            "perimeter": self.attributes.perimeter,
            "region": self.attributes.region,
            "redact_classes": sorted(c.value for c in self.redact_classes),
            "rules": [o.to_dict() for o in self.outcomes],
        }


@dataclass(frozen=True, slots=True)
class ComplianceDecision:
    data_classes: frozenset[DataClass]
    rules: tuple[ComplianceRule, ...]  # the rules this request triggered
    verdicts: tuple[DeploymentVerdict, ...]  # one per candidate, in candidate order

    @property
    def allowed(self) -> tuple[str, ...]:
        """Deployments the request may go to, in the order the candidates were given."""
        return tuple(v.deployment for v in self.verdicts if v.allowed)

    @property
    def rule_names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.rules)

    def verdict(self, deployment: str) -> DeploymentVerdict:
        for v in self.verdicts:
            if v.deployment == deployment:
                return v
        raise KeyError(f"{deployment!r} was not a candidate")

    def refusal(self) -> NoCompliantModel:
        """The error to raise when ``allowed`` is empty; it names the data classes and the rules."""
        classes = tuple(sorted(c.value for c in self.data_classes))
        found = f"contains {_join(classes)} data" if classes else "carries no detected sensitive data"
        blocking = self._blocking_rules()
        if not self.verdicts:
            reason = "no deployment was available to check"
        elif not blocking:
            reason = "no candidate deployment is compliant"
        else:
            clauses = [f"rule '{r.name}' ({r.describe()})" for r in blocking]
            reason = (
                f"{_join(clauses)} {'is' if len(clauses) == 1 else 'are'} not met by any available deployment"
            )
            if all(r.action == "block" for r in blocking):
                reason = f"{_join(clauses)} refuses it"
        return NoCompliantModel(
            f"No compliant model: the request {found}; {reason}.",
            data_classes=classes,
            rules=tuple(r.name for r in blocking),
        )

    def _blocking_rules(self) -> list[ComplianceRule]:
        names = {o.rule for v in self.verdicts for o in v.outcomes if o.effect in ("exclude", "block")}
        return [r for r in self.rules if r.name in names]

    def audit_entry(
        self,
        *,
        request_id: str,
        config_hash: str,
        deployment: str | None,
        key_id: str | None = None,
        team: str | None = None,
        sent_to: Sequence[Recipient] = (),
    ) -> AuditEntry:
        """The audit record for sending to ``deployment`` (None: the request was refused); ``sent_to``
        lists every deployment that received the body (after a fallback, more than the one that answered)."""
        classes = sorted(c.value for c in self.data_classes)
        if deployment is None:
            action = "block" if any(r.action == "block" for r in self.rules) else "refuse"
            return AuditEntry(request_id, classes, self.rule_names, action, config_hash, key_id, team,
                              sent_to=tuple(sent_to))
        verdict = self.verdict(deployment)
        if not verdict.allowed:
            raise ValueError(f"{deployment!r} is not allowed by this decision; it cannot be audited as sent")
        return AuditEntry(
            request_id,
            classes,
            self.rule_names,
            verdict.action,
            config_hash,
            key_id,
            team,
            deployment,
            verdict.attributes.perimeter,
            verdict.attributes.region,
            tuple(sent_to),
        )

    def recipient(self, deployment: str) -> Recipient:
        """How ``deployment`` received this request, for the audit record."""
        verdict = self.verdict(deployment)
        return Recipient(deployment, verdict.action, verdict.attributes.perimeter, verdict.attributes.region)

    def to_dict(self) -> dict[str, Any]:
        return {
            "data_classes": sorted(c.value for c in self.data_classes),
            "rules": [{"name": r.name, "action": r.action, "description": r.describe()} for r in self.rules],
            "allowed": list(self.allowed),
            "deployments": [v.to_dict() for v in self.verdicts],
        }


def decide(
    report: SensitivityReport,
    policy: CompliancePolicy,
    candidates: Mapping[str, DeploymentAttributes],
    *,
    team: str | None = None,
    key: str | None = None,
) -> ComplianceDecision:
    """Judge every candidate deployment against every rule the request triggers."""
    present = report.data_classes
    fixed = report.unredactable_classes
    triggered: list[tuple[ComplianceRule, tuple[DataClass, ...]]] = []
    for rule in policy.rules_for(team=team, key=key):
        hit = tuple(c for c in rule.data_classes if c in present)
        if rule.always or hit:
            triggered.append((rule, hit))
    verdicts = tuple(
        DeploymentVerdict(name, attrs, tuple(_judge(rule, hit, attrs, fixed) for rule, hit in triggered))
        for name, attrs in candidates.items()
    )
    return ComplianceDecision(present, tuple(rule for rule, _ in triggered), verdicts)


def _judge(
    rule: ComplianceRule, hit: tuple[DataClass, ...], attrs: DeploymentAttributes, fixed: frozenset[DataClass]
) -> RuleOutcome:
    satisfied = any(req.satisfied_by(attrs) for req in rule.require_any)
    effect: Effect
    unredactable: tuple[DataClass, ...] = ()
    if rule.action == "block":
        effect = "block"
    elif satisfied:
        effect = "allow"
    elif rule.action == "redact":
        unredactable = tuple(c for c in hit if c in fixed)
        effect = "exclude" if unredactable else "redact"
    else:
        effect = "exclude"
    return RuleOutcome(rule.name, rule.action, hit, satisfied, effect, unredactable)


def _join(items: tuple[str, ...] | list[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
