"""Accounting: what requests cost and would have cost on the baseline, spend limits
(budgets, RPM/TPM) enforced before the call, and monthly cost scenarios. The Redis-backed
stores live in ``redis_budgets`` and ``redis_ratelimits``; import them from there.
"""

from interlock.accounting.budgets import (
    Budget,
    BudgetLimits,
    BudgetStatus,
    BudgetStore,
    BudgetTable,
    BudgetWindow,
    Reservation,
)
from interlock.accounting.catalog import CatalogEntry, PriceCatalog, PriceCatalogError, load_catalog
from interlock.accounting.costs import (
    RequestCost,
    Tokens,
    TokenUsage,
    cost_usd,
    format_usd,
    max_cost_usd,
    price_request,
)
from interlock.accounting.memory_budgets import InMemoryBudgetStore
from interlock.accounting.periods import Period, WallClock, next_reset
from interlock.accounting.pricing import (
    CatalogPrice,
    GpuHourPrice,
    PerTokenPrice,
    Price,
    PriceSpec,
    UnknownPrice,
    resolve_price,
)
from interlock.accounting.ratelimits import InMemoryRateLimiter, RateLimiter, RateLimits, RateTicket
from interlock.accounting.scenarios import CallShape, ScenarioCost, project_all_on, project_scenario

__all__ = [
    "Budget",
    "BudgetLimits",
    "BudgetStatus",
    "BudgetStore",
    "BudgetTable",
    "BudgetWindow",
    "CallShape",
    "CatalogEntry",
    "CatalogPrice",
    "GpuHourPrice",
    "InMemoryBudgetStore",
    "InMemoryRateLimiter",
    "PerTokenPrice",
    "Period",
    "Price",
    "PriceCatalog",
    "PriceCatalogError",
    "PriceSpec",
    "RateLimiter",
    "RateLimits",
    "RateTicket",
    "RequestCost",
    "Reservation",
    "ScenarioCost",
    "TokenUsage",
    "Tokens",
    "UnknownPrice",
    "WallClock",
    "cost_usd",
    "format_usd",
    "load_catalog",
    "max_cost_usd",
    "next_reset",
    "price_request",
    "project_all_on",
    "project_scenario",
    "resolve_price",
]
