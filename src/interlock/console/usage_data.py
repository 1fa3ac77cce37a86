"""The data behind the Overview, Routing and Keys pages: ledger totals, decisions, policy, key burn.

Functions take the runtime and the database and return JSON-ready dicts; they block (run them
in a worker thread) and never see the request. No prompt text is read: the ledger holds none.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from interlock.accounting.periods import Period, next_reset, window_start
from interlock.console.ledger_views import LedgerViews, Window, projection
from interlock.gateway.runtime import Runtime
from interlock.storage.database import Database
from interlock.accounting.keys import ApiKey, SqlKeyStore

GROUPS = ("team", "key", "model", "route", "category", "deployment")
TOP_SERIES = 5


def overview(db: Database, *, days: int, by: str) -> dict[str, Any]:
    views = LedgerViews(db)
    window = Window.of_days(days)
    totals = views.totals(window)
    groups = views.by(by, window)
    top = [g["value"] or "" for g in groups[:TOP_SERIES]]
    month = Window.of_days(30)
    return {
        "days": days,
        "by": by,
        "bucket": "hour" if window.bucket_chars == 13 else "day",
        "totals": totals,
        "series": views.series(window),
        "groups": groups,
        "group_series": views.series_by(by, top, window),
        "projection": projection(totals),
        "projection_30d": projection(views.totals(month)),
    }


def routing(runtime: Runtime, db: Database | None, *, days: int) -> dict[str, Any]:
    out: dict[str, Any] = {"days": days, "ledger": db is not None, "policy": _policy(runtime)}
    if db is None:
        return out
    views = LedgerViews(db)
    window = Window.of_days(days)
    out["recent"] = views.recent()
    out["models"] = views.by("model", window)
    realized: dict[str, dict[str, Any]] = {
        g["value"] or "": g for g in views.by("category", window, limit=200)
    }
    mix: dict[str, dict[str, int]] = {}
    for g in views.by("category_model", window, limit=500):
        category, _, model = (g["value"] or "").partition("\t")
        mix.setdefault(category, {})[model] = g["requests"]
    policy = out["policy"]
    for task in policy.get("tasks", []) if policy else []:
        seen = realized.get(task["task"])
        priced = (seen["requests"] - seen["unpriced"]) if seen else 0
        task["realized"] = {
            "requests": seen["requests"] if seen else 0,
            "cost_per_request_usd": (seen["cost_usd"] / priced) if seen and priced else None,
            "shares": _shares(mix.get(task["task"], {})),
        }
    return out


def _shares(counts: dict[str, int]) -> dict[str, float]:
    total = sum(counts.values())
    return {model: n / total for model, n in sorted(counts.items(), key=lambda kv: -kv[1])} if total else {}


def _policy(runtime: Runtime) -> dict[str, Any] | None:
    """The calibrated policy in force and its promises, or None (the shipped priors decide)."""
    loaded = getattr(runtime.router, "policy", None)
    if loaded is None:
        return None
    policy = loaded.policy
    tasks = []
    for name, task in sorted(policy.tasks.items()):
        tasks.append(
            {
                "task": name,
                "rule": task.rule,
                "models": {s.model: s.share for s in task.models},
                "floor": task.floor,
                "n_items": task.n_items,
                "reason": task.reason,
                "quality": task.quality.model_dump(),
                "cost_per_request_usd": task.cost_per_request_usd.model_dump(),
                "baseline_quality": task.baseline_quality,
                "baseline_cost_per_request_usd": task.baseline_cost_per_request_usd,
            }
        )
    return {
        "path": str(loaded.path),
        "sha256": loaded.sha256,
        "version": policy.version,
        "generated_at": policy.generated_at,
        "target": policy.settings.target,
        "risk": policy.settings.risk,
        "baseline": policy.settings.baseline,
        "uncovered": policy.settings.uncovered,
        "expected": policy.expected.model_dump(),
        "tasks": tasks,
    }


def keys(runtime: Runtime, db: Database, *, now: datetime | None = None) -> dict[str, Any]:
    """Every key with its spend this period, burn rate over the last 24 hours and time to exhaustion."""
    now = now or datetime.now(UTC)
    views = LedgerViews(db)
    spent = {p: views.spend_since("key", window_start(p, now)) for p in Period}
    burned = views.spend_since("key", now - timedelta(hours=24))
    listed = SqlKeyStore(db).list(include_revoked=True)
    return {
        "auth": runtime.config.server.auth,
        "keys": [_key_row(k, spent, burned, now) for k in listed],
        "teams": _team_budgets(runtime, views, now),
    }


def _key_row(
    key: ApiKey, spent: dict[Period, dict[str, float]], burned: dict[str, float], now: datetime
) -> dict[str, Any]:
    period = Period(key.budget_period)
    used = spent[period].get(key.key_id, 0.0)
    per_hour = burned.get(key.key_id, 0.0) / 24
    row: dict[str, Any] = {
        "key_id": key.key_id,
        "team": key.team,
        "hint": key.key_hint,
        "models": list(key.models),
        "rpm": key.rpm,
        "tpm": key.tpm,
        "period": key.budget_period,
        "active": key.active,
        "created_at": key.created_at.isoformat(timespec="seconds"),
        "revoked_at": key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else None,
        "budget_usd": None if key.budget_usd is None else float(key.budget_usd),
        "spent_usd": used,
        "burn_per_hour_usd": per_hour,
        "resets_at": next_reset(period, now).isoformat(timespec="seconds"),
    }
    row.update(_exhaustion(row["budget_usd"], used, per_hour, now, next_reset(period, now)))
    return row


def _exhaustion(
    budget: float | None, used: float, per_hour: float, now: datetime, reset: datetime
) -> dict[str, Any]:
    if budget is None:
        return {"exhausted_at": None, "exhaustion": "no budget"}
    left = budget - used
    if left <= 0:
        return {"exhausted_at": now.isoformat(timespec="seconds"), "exhaustion": "exhausted"}
    if per_hour <= 0:
        return {"exhausted_at": None, "exhaustion": "not at the current rate"}
    hours = left / per_hour
    if now + timedelta(hours=min(hours, 24 * 400)) >= reset:  # bounded: a tiny burn rate means years
        return {"exhausted_at": None, "exhaustion": "not before the period resets"}
    at = now + timedelta(hours=hours)
    return {"exhausted_at": at.isoformat(timespec="seconds"), "exhaustion": f"in {hours:.1f} h"}


def _team_budgets(runtime: Runtime, views: LedgerViews, now: datetime) -> list[dict[str, Any]]:
    out = []
    for team in runtime.config.accounting.teams:
        period = Period(team.period)
        used = views.spend_since("team", window_start(period, now)).get(team.team, 0.0)
        per_hour = views.spend_since("team", now - timedelta(hours=24)).get(team.team, 0.0) / 24
        budget = None if team.budget_usd is None else float(team.budget_usd)
        row = {
            "team": team.team,
            "period": team.period,
            "budget_usd": budget,
            "spent_usd": used,
            "burn_per_hour_usd": per_hour,
        }
        row.update(_exhaustion(budget, used, per_hour, now, next_reset(period, now)))
        out.append(row)
    return out


def create_key(db: Database, body: dict[str, Any]) -> dict[str, Any]:
    """Create a key from the form's fields; the secret is returned this once."""
    from decimal import Decimal, InvalidOperation

    def number(name: str) -> int | None:
        value = body.get(name)
        if value in (None, ""):
            return None
        if isinstance(value, bool) or not str(value).strip().isdigit():
            raise ValueError(f"{name} must be a whole number")
        return int(value)

    budget_raw = body.get("budget_usd")
    try:
        budget = None if budget_raw in (None, "") else Decimal(str(budget_raw))
    except InvalidOperation:
        raise ValueError("budget_usd must be a number") from None
    if budget is not None and not budget.is_finite():
        raise ValueError("budget_usd must be a number")
    models = body.get("models") or []
    if isinstance(models, str):
        models = [m.strip() for m in models.split(",") if m.strip()]
    if not isinstance(models, list) or not all(isinstance(m, str) for m in models):
        raise ValueError("models must be a list of names")
    created = SqlKeyStore(db).create(
        str(body.get("team") or ""),
        budget_usd=budget,
        period=str(body.get("period") or "month"),
        rpm=number("rpm"),
        tpm=number("tpm"),
        models=models,
    )
    return {
        "key_id": created.key.key_id,
        "team": created.key.team,
        "hint": created.key.key_hint,
        "secret": created.secret,
    }
