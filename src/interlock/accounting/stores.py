"""Choosing where budget and rate-limit counters live, so they hold across every process that serves.

- ``accounting.redis_url`` set: Redis, shared by every worker and replica that names it.
- several workers of one ``interlock serve`` (``INTERLOCK_WORKERS`` > 1) and no Redis: the
  gateway's database (``sql_budgets``/``sql_ratelimits``), shared by the workers (and by any
  process on the same database).
- otherwise: this process's memory.

``scope`` says where they live, without credentials, for the instance registry that warns when
processes share a ledger but not their counters.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from interlock.accounting.budgets import BudgetLimits, BudgetStore, SpentBefore
from interlock.accounting.memory_budgets import InMemoryBudgetStore
from interlock.accounting.ratelimits import InMemoryRateLimiter, RateLimiter
from interlock.accounting.settings import AccountingSettings
from interlock.storage.database import ENV_DB_URL, Database, open_database
from interlock.accounting.instances import DATABASE_BUDGETS, PROCESS_BUDGETS, budget_scope

ENV_WORKERS = "INTERLOCK_WORKERS"


@dataclass(frozen=True, slots=True)
class Counters:
    budgets: BudgetStore
    limiter: RateLimiter
    scope: str


def worker_count(environ: Mapping[str, str] = os.environ) -> int:
    """How many worker processes ``interlock serve`` runs (set for its workers; 1 when unset)."""
    raw = environ.get(ENV_WORKERS, "").strip()
    try:
        return max(1, int(raw)) if raw else 1
    except ValueError:
        raise ValueError(f"{ENV_WORKERS} must be a whole number of worker processes, not {raw!r}") from None


def open_counters(
    settings: AccountingSettings,
    limits: BudgetLimits,
    spent_before: SpentBefore | None,
    db: Database | None,
    *,
    workers: int | None = None,
    environ: Mapping[str, str] = os.environ,
) -> Counters:
    """The budget store and rate limiter for this process; ``db`` is the gateway's database, if it has one."""
    if settings.redis_url:
        from interlock.accounting.redis_budgets import RedisBudgetStore
        from interlock.accounting.redis_ratelimits import RedisRateLimiter

        return Counters(
            RedisBudgetStore.from_url(settings.redis_url, limits, spent_before=spent_before),
            RedisRateLimiter.from_url(settings.redis_url),
            budget_scope(settings.redis_url),
        )
    if (workers if workers is not None else worker_count(environ)) > 1:
        from interlock.accounting.sql_budgets import SqlBudgetStore
        from interlock.accounting.sql_ratelimits import SqlRateLimiter

        owns = db is None  # keys and the ledger are off: the counters still need a shared home
        shared = db if db is not None else open_database(settings.database_url or environ.get(ENV_DB_URL))
        return Counters(
            SqlBudgetStore(shared, limits, spent_before=spent_before, owns_db=owns),
            SqlRateLimiter(shared),
            DATABASE_BUDGETS,
        )
    return Counters(InMemoryBudgetStore(limits, spent_before=spent_before), InMemoryRateLimiter(), PROCESS_BUDGETS)
