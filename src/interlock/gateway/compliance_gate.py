"""The compliance step of a request: scan it, judge every deployment, redact where policy says so, audit.

Routing and fallback only ever see deployments this step allows; a deployment whose breaker is
open counts as unavailable, so when every compliant deployment is down the request is refused
(403 ``no_compliant_model``) instead of being sent anywhere else.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from interlock.compliance import (
    AuditEntry,
    AuditLog,
    ChunkRestorer,
    ComplianceDecision,
    CompliancePolicy,
    ComplianceRule,
    DeploymentAttributes,
    Redaction,
    Requirement,
    SensitivityReport,
    decide,
    redact_request,
    restore_completion,
    scanner_for,
)
from interlock.config.deployments import DeploymentBase
from interlock.providers.base import ChatRequest, Provider

log = logging.getLogger("interlock.compliance")
JSON = dict[str, Any]
_BATCH = 500
_LINGER_S = 0.05  # a record waits at most this long to share a transaction with others


def default_policy() -> CompliancePolicy:
    """Fail-safe default when the config has no ``compliance:`` section: sensitive data stays inside."""
    inside = [Requirement(perimeter="internal")]
    return CompliancePolicy(rules=[
        ComplianceRule(name="health-stays-inside", data_classes=["health"], require_any=inside),
        ComplianceRule(name="financial-stays-inside", data_classes=["financial"], require_any=inside),
        ComplianceRule(name="personal-stays-inside", data_classes=["personal"], require_any=inside),
        ComplianceRule(name="privileged-stays-inside", data_classes=["privileged"], require_any=inside),
        ComplianceRule(name="secrets-stay-inside", data_classes=["secret"], require_any=inside),
    ])


def attributes_of(d: DeploymentBase) -> DeploymentAttributes:
    return DeploymentAttributes(
        perimeter=d.perimeter, region=d.region or "unknown", retention=d.retention, agreements=frozenset(d.agreements)
    )


@dataclass(slots=True)
class Assessment:
    """One request's compliance outcome: which deployments may serve it, and how."""

    body: JSON
    report: SensitivityReport
    decision: ComplianceDecision | None
    allowed: frozenset[str] = field(default_factory=frozenset)
    redactions: dict[frozenset[str], Redaction] = field(default_factory=dict)

    @property
    def refused(self) -> bool:
        return self.decision is not None and not self.allowed

    def permits(self, deployment: str) -> bool:
        return self.decision is None or deployment in self.allowed

    def reason(self, d: DeploymentBase) -> str | None:
        """For the routing explanation: why compliance drops this deployment (None: it may serve)."""
        if self.permits(d.name):
            return None
        assert self.decision is not None
        if d.name not in {v.deployment for v in self.decision.verdicts}:
            return "compliance: deployment unavailable (circuit open), not considered"
        rules = [o.rule for o in self.decision.verdict(d.name).outcomes if o.effect in ("exclude", "block")]
        return f"compliance: {', '.join(rules)}"

    def wrap(self, name: str, provider: Provider) -> Provider:
        """The provider to use for ``name``: as is, or sending a redacted request and restoring the answer."""
        if self.decision is None or not self.permits(name):
            return provider  # the chain's allow filter keeps it out anyway
        classes = self.decision.verdict(name).redact_classes
        if not classes:
            return provider
        key = frozenset(c.value for c in classes)
        if key not in self.redactions:
            self.redactions[key] = redact_request(self.body, self.report, classes)
        return RedactingProvider(provider, self.redactions[key])


class RedactingProvider:
    """Sends the redacted request and puts the original values back into the answer."""

    def __init__(self, inner: Provider, redaction: Redaction) -> None:
        self.inner = inner
        self.redaction = redaction

    def _request(self, request: ChatRequest) -> ChatRequest:
        return ChatRequest(body=self.redaction.request, request_id=request.request_id,
                           include_usage=request.include_usage, extra=request.extra)

    async def complete(self, request: ChatRequest) -> JSON:
        return restore_completion(await self.inner.complete(self._request(request)), self.redaction.restorer)

    async def stream(self, request: ChatRequest) -> AsyncIterator[JSON]:
        restorer = ChunkRestorer(self.redaction.restorer)
        async for chunk in self.inner.stream(self._request(request)):
            yield restorer.restore(chunk)
        tail = restorer.flush()
        if tail is not None:
            yield tail

    async def aclose(self) -> None:
        await self.inner.aclose()


class ComplianceGate:
    def __init__(self, policy: CompliancePolicy, deployments: list[DeploymentBase], audit_path: Path | None) -> None:
        self.policy = policy
        self.scanner = scanner_for(policy.detection)
        self.attributes = {d.name: attributes_of(d) for d in deployments}
        self.audit = AuditLog(audit_path) if audit_path is not None else None
        # One writer thread keeps the hash chain in request order, off the event loop, a batch per
        # transaction: entries queue up while the previous batch is written.
        self._queue: queue.SimpleQueue[AuditEntry | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        if self.audit is not None:
            self._writer = threading.Thread(target=self._write_batches, name="audit-writer", daemon=True)
            self._writer.start()

    def assess(self, body: JSON, *, key_id: str | None, team: str | None, is_up: Callable[[str], bool]) -> Assessment:
        """Scan ``body`` and judge the deployments that are up; the caller refuses when none is allowed."""
        report = self.scanner.scan_request(body)
        rules = self.policy.rules_for(team=team, key=key_id)
        if not report.data_classes and not any(r.always for r in rules):
            return Assessment(body, report, None)
        candidates = {n: a for n, a in self.attributes.items() if is_up(n)}
        decision = decide(report, self.policy, candidates, team=team, key=key_id)
        return Assessment(body, report, decision, frozenset(decision.allowed))

    def record(self, assessment: Assessment | None, *, request_id: str, config_hash: str, deployment: str | None,
               key_id: str | None, team: str | None) -> None:
        """Append the request's audit record (sensitive or not) without blocking the event loop."""
        if self.audit is None:
            return
        if assessment is not None and assessment.decision is not None:
            entry = assessment.decision.audit_entry(request_id=request_id, config_hash=config_hash,
                                                    deployment=deployment, key_id=key_id, team=team)
        else:
            attrs = self.attributes.get(deployment or "")
            entry = AuditEntry(request_id, [], [], "allow" if deployment else "refuse", config_hash, key_id, team,
                               deployment, attrs.perimeter if attrs else None, attrs.region if attrs else None)
        self._queue.put(entry)

    def _write_batches(self) -> None:
        """Wait for an entry, gather what else arrives within ``_LINGER_S``, write it all in one transaction."""
        assert self.audit is not None
        closing = False
        while not closing:
            item = self._queue.get()
            batch: list[AuditEntry] = []
            deadline = time.monotonic() + _LINGER_S
            while item is not None:
                batch.append(item)
                remaining = deadline - time.monotonic()
                if len(batch) >= _BATCH or remaining <= 0:
                    break
                try:
                    item = self._queue.get(timeout=remaining)
                except queue.Empty:
                    break
            closing = item is None
            if batch:
                try:
                    self.audit.append_many(batch)
                except Exception:
                    log.exception("audit log write failed for %d records", len(batch))

    async def aclose(self) -> None:
        """Write everything queued, then stop the writer."""
        if self._writer is not None:
            self._queue.put(None)
            await asyncio.get_running_loop().run_in_executor(None, self._writer.join)
            self._writer = None
