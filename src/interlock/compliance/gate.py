"""The compliance step of a request: scan it, judge every deployment, redact where policy says so, audit.

Routing and fallback only ever see deployments this step allows; a deployment whose breaker is
open counts as unavailable, so when every compliant deployment is down the request is refused
(403 ``no_compliant_model``) instead of being sent anywhere else. Every provider the chain calls
is wrapped here, so the audit record names each deployment that received the body, fallbacks
and hedges included, not only the one that answered.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from interlock.compliance import (
    AuditEntry,
    ChunkRestorer,
    ComplianceDecision,
    CompliancePolicy,
    ComplianceRule,
    DataClass,
    DeploymentAttributes,
    Recipient,
    Redaction,
    Requirement,
    SensitivityReport,
    UnredactableValue,
    decide,
    redact_request,
    restore_completion,
    scanner_for,
)
from interlock.compliance.audit import open_audit_log
from interlock.config.deployments import DeploymentBase
from interlock.errors import UnsupportedParameter
from interlock.providers.base import ChatRequest, Provider
from interlock.providers.wrapped import WrappedProvider
from interlock.types import JSON

log = logging.getLogger("interlock.compliance")
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
    unredactable: frozenset[str] = field(default_factory=frozenset)  # dropped: a value cannot be replaced
    sent_to: list[str] = field(default_factory=list)  # every deployment handed the body, in order

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
        if d.name in self.unredactable:
            return "compliance: a value it may only receive redacted cannot be redacted in place"
        rules = [o.rule for o in self.decision.verdict(d.name).outcomes if o.effect in ("exclude", "block")]
        return f"compliance: {', '.join(rules)}"

    def redaction_for(self, classes: frozenset[DataClass]) -> Redaction:
        """The request with ``classes`` redacted (made once per set); may raise ``UnredactableValue``."""
        key = frozenset(c.value for c in classes)
        if key not in self.redactions:
            self.redactions[key] = redact_request(self.body, self.report, classes)
        return self.redactions[key]

    def wrap(self, name: str, provider: Provider) -> Provider:
        """The provider to use for ``name`` in this request: it notes that ``name`` received the body
        (for the audit record) and, where policy says so, sends the redacted request and restores
        the answer."""
        if self.decision is not None and self.permits(name):
            classes = self.decision.verdict(name).redact_classes
            if classes:
                provider = RedactingProvider(provider, self.redaction_for(classes))
        return RecordingProvider(provider, name, self.sent_to)


class RecordingProvider(WrappedProvider):
    """Notes the deployment in the request's ``sent_to`` list when the body is handed to it.

    Noted before the call, so a deployment that failed (or lost a hedge race) after receiving the
    body is on the record too. A per-request view: it does not own (or close) the deployment's provider.
    """

    __slots__ = ("_sent_to", "name")

    def __init__(self, inner: Provider, name: str, sent_to: list[str]) -> None:
        super().__init__(inner, owns_inner=False)
        self.name = name
        self._sent_to = sent_to

    def _note(self) -> None:
        if self.name not in self._sent_to:
            self._sent_to.append(self.name)

    async def complete(self, request: ChatRequest) -> JSON:
        self._note()
        return await self.inner.complete(request)

    def stream(self, request: ChatRequest) -> AsyncIterator[JSON]:
        self._note()
        return self.inner.stream(request)  # a plain function: no generator frame of its own

    async def embed(self, body: JSON, request_id: str = "") -> JSON:
        self._note()
        return await super().embed(body, request_id)


class RedactingProvider(WrappedProvider):
    """Sends the redacted request and puts the original values back into the answer (a per-request view)."""

    __slots__ = ("redaction",)

    def __init__(self, inner: Provider, redaction: Redaction) -> None:
        super().__init__(inner, owns_inner=False)
        self.redaction = redaction

    def _request(self, request: ChatRequest) -> ChatRequest:
        return ChatRequest(body=self.redaction.request, request_id=request.request_id,
                           include_usage=request.include_usage, extra=request.extra)

    async def complete(self, request: ChatRequest) -> JSON:
        return restore_completion(await self.inner.complete(self._request(request)), self.redaction.restorer)

    async def stream(self, request: ChatRequest) -> AsyncIterator[JSON]:  # type: ignore[override]
        restorer = ChunkRestorer(self.redaction.restorer)
        async for chunk in self.inner.stream(self._request(request)):
            yield restorer.restore(chunk)
        tail = restorer.flush()
        if tail is not None:
            yield tail

    async def embed(self, body: JSON, request_id: str = "") -> JSON:
        """Never: a vector of a redacted text is another vector, so nothing that needs redaction embeds."""
        raise UnsupportedParameter("A deployment that may only receive redacted input serves no embeddings.",
                                   param="input")


class ComplianceGate:
    def __init__(self, policy: CompliancePolicy, deployments: Sequence[DeploymentBase], audit_path: str | Path | None,
                 *, always_scan: bool = False, append: Callable[[list[AuditEntry]], object] | None = None) -> None:
        """``always_scan``: scan even when no rule could act (a dry run shows detections; an alias that
        shadows traffic must see sensitive requests, which are never mirrored). ``append`` writes a batch
        of audit entries (default: this process's own connection to the audit log)."""
        self.policy = policy
        self._scan_always = always_scan or policy.detection.always_scan
        self._inert: dict[tuple[str | None, str | None], bool] = {}
        self.scanner = scanner_for(policy.detection)
        self.attributes = {d.name: attributes_of(d) for d in deployments}
        self._plain_recipients: dict[str, Recipient] = {}
        self.audit = open_audit_log(audit_path) if audit_path is not None else None
        self._append = append or (self.audit.append_many if self.audit is not None else None)
        # One writer thread keeps the hash chain in request order, off the event loop, a batch per
        # transaction: entries queue up while the previous batch is written.
        self._queue: queue.SimpleQueue[AuditEntry | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        if self.audit is not None:
            self._writer = threading.Thread(target=self._write_batches, name="audit-writer", daemon=True)
            self._writer.start()

    def assess(self, body: JSON, *, key_id: str | None, team: str | None, is_up: Callable[[str], bool]) -> Assessment:
        """Scan ``body`` and judge the deployments that are up; the caller refuses when none is allowed.

        Not scanned at all when no rule could change the outcome for this caller: the assessment is
        then the same as for a request with nothing sensitive in it.
        """
        if self._no_rule_can_act(team, key_id):
            return Assessment(body, SensitivityReport(), None)
        report = self.scanner.scan_request(body)
        rules = self.policy.rules_for(team=team, key=key_id)
        if not report.data_classes and not any(r.always for r in rules):
            return Assessment(body, report, None)
        candidates = {n: a for n, a in self.attributes.items() if is_up(n)}
        decision = decide(report, self.policy, candidates, team=team, key=key_id)
        assessment = Assessment(body, report, decision, frozenset(decision.allowed))
        # Redact now for the deployments that may only see a redacted body: a value repeated where
        # no placeholder can stand (an object key, a number parameter) keeps them out of the chain.
        dropped: set[str] = set()
        for name in decision.allowed:
            classes = decision.verdict(name).redact_classes
            if classes:
                try:
                    assessment.redaction_for(classes)
                except UnredactableValue:
                    dropped.add(name)
        if dropped:
            assessment.allowed -= dropped
            assessment.unredactable = frozenset(dropped)
        return assessment

    def record(self, assessment: Assessment | None, *, request_id: str, config_hash: str, deployment: str | None,
               key_id: str | None, team: str | None) -> None:
        """Append the request's audit record (sensitive or not) without blocking the event loop."""
        if self.audit is None:
            return
        names = list(assessment.sent_to) if assessment is not None else []
        if deployment and deployment not in names:
            names.append(deployment)  # a deployment called without the chain (embeddings)
        decision = assessment.decision if assessment is not None else None
        sent_to = [self._recipient(name, decision) for name in names]
        if decision is not None:
            entry = decision.audit_entry(request_id=request_id, config_hash=config_hash,
                                         deployment=deployment, key_id=key_id, team=team, sent_to=sent_to)
        else:
            attrs = self.attributes.get(deployment or "")
            entry = AuditEntry(request_id, [], [], "allow" if deployment else "refuse", config_hash, key_id, team,
                               deployment, attrs.perimeter if attrs else None,
                               attrs.region if attrs else None, sent_to)
        self._queue.put(entry)

    def _no_rule_can_act(self, team: str | None, key: str | None) -> bool:
        """Whether every deployment meets every rule this caller is under, and no rule blocks or always applies."""
        if self._scan_always:
            return False
        scope = (team if team in self.policy.teams else None, key if key in self.policy.keys else None)
        inert = self._inert.get(scope)
        if inert is None:
            attrs = list(self.attributes.values())
            inert = self._inert[scope] = all(
                not rule.always and rule.action != "block"
                and all(any(req.satisfied_by(a) for req in rule.require_any) for a in attrs)
                for rule in self.policy.rules_for(team=scope[0], key=scope[1]))
        return inert

    def record_request(self, rec: Any) -> None:
        """The audit sink of a finished request (a ``RequestRecord``); requests that never named a model are not audited."""
        if rec.requested_model:
            # the deployment the request was sent to (served or failed); None when it was refused
            self.record(rec.compliance, request_id=rec.request_id, config_hash=rec.config_hash,
                        deployment=rec.deployment or None, key_id=rec.key_id, team=rec.team)

    def _recipient(self, name: str, decision: ComplianceDecision | None) -> Recipient:
        if decision is not None and any(v.deployment == name for v in decision.verdicts):
            return decision.recipient(name)
        plain = self._plain_recipients.get(name)  # frozen, the same for every request: made once
        if plain is None:
            attrs = self.attributes.get(name)
            plain = Recipient(name, "allow") if attrs is None else Recipient(name, "allow", attrs.perimeter,
                                                                             attrs.region)
            if attrs is not None:
                self._plain_recipients[name] = plain
        return plain

    def _write_batches(self) -> None:
        """Wait for an entry, let more arrive for ``_LINGER_S``, write them all in one transaction.

        The thread sleeps through the linger instead of waiting on the queue: an entry queued while
        it sleeps wakes nobody, so the event loop pays no thread switch per request.
        """
        assert self._append is not None
        closing = False
        while not closing:
            first = self._queue.get()
            if first is not None and self._queue.qsize() < _BATCH:
                time.sleep(_LINGER_S)
            batch: list[AuditEntry] = []
            item: AuditEntry | None = first
            while item is not None:
                batch.append(item)
                if len(batch) >= _BATCH:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            closing = item is None
            if batch:
                try:
                    self._append(batch)
                except Exception:
                    log.exception("audit log write failed for %d records", len(batch))

    async def aclose(self) -> None:
        """Write everything queued, then stop the writer."""
        if self._writer is not None:
            self._queue.put(None)
            await asyncio.get_running_loop().run_in_executor(None, self._writer.join)
            self._writer = None
        if self.audit is not None:
            self.audit.close()
