"""Compliance: sensitivity detection, policy decisions, redaction and the audit log.

A request body is scanned (``scan_request``: every string, number and key it sends, folded so
obfuscated values read plainly) into a ``SensitivityReport``; ``decide`` judges the
candidate deployments against the ``CompliancePolicy``; ``redact_request`` and the restorers
handle deployments that may only see a redacted request; ``AuditLog`` records where it went.
"""

from interlock.compliance.audit import (
    AuditEntry,
    AuditLog,
    AuditLogDamaged,
    AuditRecord,
    Recipient,
    VerifyResult,
)
from interlock.compliance.decision import ComplianceDecision, DeploymentVerdict, RuleOutcome, decide
from interlock.compliance.detection import DataClass, Detection, Detector, DetectorRegistry, Location
from interlock.compliance.policy import (
    CompliancePolicy,
    ComplianceRule,
    DeploymentAttributes,
    DetectionSettings,
    Requirement,
)
from interlock.compliance.recognizers import BUILTIN_KINDS, builtin_registry
from interlock.compliance.redaction import (
    Redaction,
    Restorer,
    StreamRestorer,
    UnredactableValue,
    redact_request,
)
from interlock.compliance.response_restoring import ChunkRestorer, restore_completion
from interlock.compliance.scanning import (
    Scanner,
    SensitivityReport,
    default_scanner,
    scan_request,
    scanner_for,
)

__all__ = [
    "BUILTIN_KINDS",
    "AuditEntry",
    "AuditLog",
    "AuditLogDamaged",
    "AuditRecord",
    "ChunkRestorer",
    "ComplianceDecision",
    "CompliancePolicy",
    "ComplianceRule",
    "DataClass",
    "DeploymentAttributes",
    "DeploymentVerdict",
    "DetectionSettings",
    "Detection",
    "Detector",
    "DetectorRegistry",
    "Location",
    "Recipient",
    "Redaction",
    "Requirement",
    "Restorer",
    "RuleOutcome",
    "Scanner",
    "SensitivityReport",
    "StreamRestorer",
    "UnredactableValue",
    "VerifyResult",
    "builtin_registry",
    "decide",
    "default_scanner",
    "redact_request",
    "restore_completion",
    "scan_request",
    "scanner_for",
]
