"""The data behind the Deployments and Compliance pages: live health, versions, the audit log.

Health, latency percentiles, breakers and in-flight counts come from the running resilience
registry (this process's recent window); request and error counts over the window come from the
ledger rollup. The audit log is read through its own read-only SQLite connection.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interlock.console.audit_counts import AuditCounts
from interlock.console.ledger_views import LedgerViews, Window
from interlock.storage.database import Database, default_sqlite_path
from interlock.accounting.ledger import hour_key
from interlock.versions.lifecycle import state_on

if TYPE_CHECKING:
    from interlock.gateway.runtime import Runtime


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def deployments(runtime: Runtime, db: Database | None, *, days: int) -> dict[str, Any]:
    latest = runtime.preflight.latest
    ledger = (
        {g["value"]: g for g in LedgerViews(db).by("deployment", Window.of_days(days), 500)} if db else {}
    )
    status = {s.health.deployment: s for s in runtime.resilience.snapshot()}
    lifecycle = {entry.model: entry for entry in runtime.config.lifecycle}
    today = datetime.now(UTC).date()
    rows = []
    for d in runtime.config.deployments:
        s = status.get(d.name)
        check = latest.check_of(d.name) if latest else None
        ref = f"{d.model}@{d.version}" if d.version else d.model
        entry = lifecycle.get(ref) or lifecycle.get(d.model)
        seen = ledger.get(d.name)
        rows.append(
            {
                "name": d.name,
                "model": d.model,
                "version": d.version,
                "type": d.type,
                "perimeter": d.perimeter,
                "region": d.region,
                "preflight": check.to_dict() if check else None,
                "lifecycle": state_on(entry, today).value if entry else "active",
                "in_flight": s.health.in_flight if s else None,
                "error_rate": s.health.error_rate if s else None,
                "live_requests": s.health.requests if s else None,
                "latency_p50_ms": _ms(s.health.latency_p50_s) if s else None,
                "latency_p95_ms": _ms(s.health.latency_p95_s) if s else None,
                "ttft_p50_ms": _ms(s.health.ttft_p50_s) if s else None,
                "breaker": s.breaker.value if s else None,
                "breaker_reason": s.breaker_reason if s else "",
                "requests": seen["requests"] if seen else 0,
                "errors": seen["errors"] if seen else 0,
            }
        )
    return {
        "config_hash": runtime.config_hash,
        "ready": latest.ready if latest else None,
        "deployments": rows,
        "aliases": _aliases(runtime, ledger),
        "lifecycle": _lifecycle(runtime, today),
        "shadows": _shadows(runtime, db),
        "days": days,
    }


def _aliases(runtime: Runtime, ledger: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for alias in runtime.config.aliases:
        # a one-target alias is shown as a canary of one at 100%
        weights = [(t.model, t.weight) for t in alias.targets] or [(alias.target or "", 1.0)]
        total = sum(w for _, w in weights) or 1.0
        out.append(
            {
                "name": alias.name,
                "sticky": alias.sticky.value,
                "fallbacks": list(alias.fallbacks),
                "targets": [{"model": m, "share": w / total} for m, w in weights],
                "shadow": None
                if alias.shadow is None
                else {"model": alias.shadow.model, "share": alias.shadow.share},
            }
        )
    return out


def _lifecycle(runtime: Runtime, today: Any) -> list[dict[str, Any]]:
    return [
        {
            "model": e.model,
            "state": state_on(e, today).value,
            "deprecated_after": e.deprecated_after.isoformat() if e.deprecated_after else None,
            "sunset": e.sunset.isoformat() if e.sunset else None,
            "successor": e.successor,
            "redirect": e.redirect,
        }
        for e in runtime.config.lifecycle
    ]


def _shadows(runtime: Runtime, db: Database | None) -> list[dict[str, Any]]:
    if db is None or not any(a.shadow for a in runtime.config.aliases):
        return []
    from interlock.versions.compare import summarise
    from interlock.versions.store import SqlShadowStore

    store = SqlShadowStore(db)
    since = datetime.now(UTC) - timedelta(days=7)
    return [
        summarise(alias, store.results(alias, since=since, limit=1000)).to_dict() for alias in store.aliases()
    ]


def audit_path(runtime: Runtime) -> Path:
    """Where the runtime keeps its audit log (the same rule as at start)."""
    configured = runtime.config.audit_log
    return Path(configured) if configured else default_sqlite_path().with_name("audit.db")


def compliance(runtime: Runtime, counts: AuditCounts, *, days: int) -> dict[str, Any]:
    """Requests per data class and action (refused, redacted, routed inside, allowed) over the window."""
    path = audit_path(runtime)
    out: dict[str, Any] = {
        "days": days,
        "audit_log": str(path),
        "log_prompts": runtime.config.server.log_prompts,
    }
    if not path.exists():
        return {**out, "available": False}
    newest = counts.refresh(path)
    actions, per_class = counts.since(hour_key(datetime.now(UTC) - timedelta(hours=days * 24 - 1)))
    return {
        **out,
        "available": True,
        "records": newest,
        "actions": dict(actions),
        "classes": [
            {"data_class": name, **dict(c), "total": sum(c.values())} for name, c in sorted(per_class.items())
        ],
    }


def verify_audit(runtime: Runtime) -> dict[str, Any]:
    audit = runtime.compliance.audit
    if audit is None:
        return {"ok": False, "problem": "the gateway writes no audit log"}
    result = audit.verify()
    return {
        "ok": result.ok,
        "records_checked": result.records_checked,
        "first_bad_seq": result.first_bad_seq,
        "first_bad_request_id": result.first_bad_request_id,
        "problem": result.problem,
    }
