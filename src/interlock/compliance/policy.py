"""Compliance configuration: deployment attributes, requirements, rules and the policy holding them.

Parsed strictly (unknown keys rejected, paths named in errors). A rule names the data classes it
governs, the attributes a deployment must have (any one of several alternatives), and the action
when a deployment lacks them: ``route`` (exclude it), ``redact`` (send it a redacted request) or
``block`` (refuse the request whenever the class is present). Team and key rules add to the
global rules; they can tighten the policy, never loosen it.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from interlock.compliance.detection import DataClass

Perimeter = Literal["internal", "external"]
Action = Literal["route", "redact", "block"]

_RETENTION = re.compile(r"^(?:none|unlimited|\d+d)$")
_REGION = re.compile(r"^[a-z]{2,}(?:-[a-z0-9]+)*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _region_matches(wanted: str, actual: str) -> bool:
    """``eu`` accepts ``eu`` and ``eu-west-1``; ``eu-west-1`` accepts only itself and below."""
    return actual == wanted or actual.startswith(wanted + "-")


class DeploymentAttributes(_Strict):
    """Where a deployment runs and under what terms; set per deployment in the catalog."""

    perimeter: Perimeter
    region: str
    retention: str = "unlimited"  # none | <N>d | unlimited (unknown retention counts as unlimited)
    agreements: frozenset[str] = frozenset()  # e.g. hipaa_baa, gdpr_dpa

    @field_validator("region")
    @classmethod
    def _check_region(cls, value: str) -> str:
        if not _REGION.match(value):
            raise ValueError("region must be lower-case words joined by '-', e.g. 'eu' or 'eu-west-1'")
        return value

    @field_validator("retention")
    @classmethod
    def _check_retention(cls, value: str) -> str:
        if not _RETENTION.match(value):
            raise ValueError("retention must be 'none', 'unlimited' or a number of days like '30d'")
        return value

    @property
    def retention_days(self) -> float:
        if self.retention == "none":
            return 0
        return float("inf") if self.retention == "unlimited" else int(self.retention[:-1])


class Requirement(_Strict):
    """Attributes a deployment must all have; unset fields do not constrain."""

    perimeter: Perimeter | None = None
    region: list[str] | None = None  # any of these regions (or their sub-regions)
    max_retention_days: int | None = Field(default=None, ge=0)
    agreements: list[str] = []  # all of these

    @field_validator("region", mode="before")
    @classmethod
    def _one_region(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _not_empty(self) -> Requirement:
        if (self.perimeter, self.region, self.max_retention_days) == (
            None,
            None,
            None,
        ) and not self.agreements:
            raise ValueError("a requirement needs one of perimeter, region, max_retention_days, agreements")
        return self

    def satisfied_by(self, attrs: DeploymentAttributes) -> bool:
        if self.perimeter is not None and attrs.perimeter != self.perimeter:
            return False
        if self.region is not None and not any(_region_matches(r, attrs.region) for r in self.region):
            return False
        if self.max_retention_days is not None and attrs.retention_days > self.max_retention_days:
            return False
        return all(a in attrs.agreements for a in self.agreements)

    def describe(self) -> str:
        parts = []
        if self.perimeter is not None:
            parts.append(f"perimeter={self.perimeter}")
        if self.region is not None:
            parts.append("region=" + "|".join(self.region))
        if self.max_retention_days is not None:
            parts.append(f"retention<={self.max_retention_days}d")
        parts.extend(f"agreement {a}" for a in self.agreements)
        return " and ".join(parts)


class ComplianceRule(_Strict):
    """When a request holds any of ``data_classes`` (or ``always``), deployments must meet ``require_any``."""

    name: str = Field(min_length=1)
    data_classes: list[DataClass] = []
    always: bool = False  # applies to every request of its scope (e.g. a team pinned to the EU)
    require_any: list[Requirement] = []
    action: Action = "route"

    @model_validator(mode="after")
    def _coherent(self) -> ComplianceRule:
        if self.always == bool(self.data_classes):
            raise ValueError("give either data_classes or always: true (not both, not neither)")
        if self.action == "route" and not self.require_any:
            raise ValueError("action 'route' needs require_any: the attributes a deployment must have")
        if self.action == "block" and self.require_any:
            raise ValueError("action 'block' refuses outright; use action 'route' to allow some deployments")
        if self.action == "redact" and self.always:
            raise ValueError("action 'redact' applies to detected data classes, not to always: true")
        return self

    def describe(self) -> str:
        scope = "every request" if self.always else "/".join(c.value for c in self.data_classes) + " data"
        if self.action == "block":
            return f"{scope} is refused"
        need = " or ".join(r.describe() for r in self.require_any) or "nothing"
        verb = "requires" if self.action == "route" else "is redacted unless the deployment has"
        return f"{scope} {verb} {need}"


class DetectionSettings(_Strict):
    disable: list[str] = []  # recognizer names to turn off, e.g. person_name
    # Scanning is skipped when no rule could change where a request goes (every deployment meets
    # every rule, nothing blocks, no shadow mirrors traffic); set this to record detections anyway.
    always_scan: bool = False


class CompliancePolicy(_Strict):
    """The ``compliance:`` section of the config."""

    rules: list[ComplianceRule] = []
    teams: dict[str, list[ComplianceRule]] = {}
    keys: dict[str, list[ComplianceRule]] = {}
    detection: DetectionSettings = DetectionSettings()

    @model_validator(mode="after")
    def _unique_rule_names(self) -> CompliancePolicy:
        seen: set[str] = set()
        scoped = [r for rules in [*self.teams.values(), *self.keys.values()] for r in rules]
        for rule in [*self.rules, *scoped]:
            if rule.name in seen:
                raise ValueError(f"rule name {rule.name!r} is used twice; audit records name rules by name")
            seen.add(rule.name)
        return self

    def rules_for(self, *, team: str | None = None, key: str | None = None) -> list[ComplianceRule]:
        """Global rules, then the team's, then the key's: every one of them must be satisfied."""
        out = list(self.rules)
        if team is not None:
            out.extend(self.teams.get(team, ()))
        if key is not None:
            out.extend(self.keys.get(key, ()))
        return out

    def fingerprint(self) -> str:
        """SHA-256 of the canonical JSON of this policy (sorted keys, no whitespace)."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()
