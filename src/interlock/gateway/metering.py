"""Metering one request: who is calling (virtual keys), may they (rate limits, budgets), what it cost.

Budgets are enforced before the call: the request's maximum possible cost on any deployment
it may reach is reserved, settled to the actual cost afterwards, and released on failure.
Every finished request becomes a usage record in the ledger, written off the request path.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from interlock.accounting.budgets import Budget, BudgetStore, BudgetTable, Reservation
from interlock.accounting.costs import RequestCost, price_request
from interlock.accounting.memory_budgets import InMemoryBudgetStore
from interlock.accounting.pricebook import PriceBook
from interlock.accounting.ratelimits import InMemoryRateLimiter, RateLimiter, RateLimits, RateTicket
from interlock.config.schema import GatewayConfig
from interlock.errors import PermissionDenied
from interlock.observability.record import RequestRecord
from interlock.providers.base import Usage
from interlock.storage.database import ENV_DB_URL, Database, open_database
from interlock.storage.key_auth import KeyAuthenticator
from interlock.storage.keys import ApiKey, SqlKeyStore
from interlock.storage.ledger import SqlLedgerStore
from interlock.storage.records import UsageRecord
from interlock.storage.writer import LedgerWriter

log = logging.getLogger("interlock.metering")

ANONYMOUS = "anonymous"


@dataclass(frozen=True, slots=True)
class Caller:
    key_id: str
    team: str | None = None
    key: ApiKey | None = None


@dataclass(slots=True)
class Admission:
    caller: Caller
    reservation: Reservation | None = None
    ticket: RateTicket | None = None
    settled: bool = False


class Metering:
    def __init__(self, config: GatewayConfig, prices: PriceBook) -> None:
        acc = config.accounting
        self.prices = prices
        self.default_output_tokens = acc.default_output_tokens
        needs_db = config.server.auth or acc.ledger
        self.database_url = acc.database_url or os.environ.get(ENV_DB_URL)
        self.db: Database | None = open_database(self.database_url) if needs_db else None
        self.auth = KeyAuthenticator(SqlKeyStore(self.db)) if config.server.auth and self.db else None
        self.table = BudgetTable()
        for t in acc.teams:
            self.table.set_team_budget(t.team, t.budget_usd, t.period)
        self.budgets: BudgetStore
        self.limiter: RateLimiter
        if acc.redis_url:
            from interlock.accounting.redis_budgets import RedisBudgetStore
            from interlock.accounting.redis_ratelimits import RedisRateLimiter

            self.budgets = RedisBudgetStore.from_url(acc.redis_url, self.table)
            self.limiter = RedisRateLimiter.from_url(acc.redis_url)
        else:
            # Counters start from the ledger's spend this period, so restarts and reloads keep budgets.
            spent = self._ledger_spend if self.db is not None and acc.ledger else None
            self.budgets = InMemoryBudgetStore(self.table, spent_before=spent)
            self.limiter = InMemoryRateLimiter()
        self.writer = LedgerWriter(SqlLedgerStore(self.db)) if acc.ledger and self.db else None

    def _ledger_spend(self, budget: Budget, since: datetime) -> Decimal:
        assert self.db is not None
        return SqlLedgerStore(self.db).cost_since(budget.scope, budget.owner, since)

    async def identify(self, presented: str | None) -> Caller:
        """The caller behind ``presented`` (an Authorization or x-api-key value); 401 when auth is on and it fails."""
        if self.auth is None:
            return Caller(ANONYMOUS)
        key = await self.auth.authenticate(presented)
        self.table.set_key_budget(key.key_id, key.budget_usd, key.budget_period)
        return Caller(key.key_id, key.team, key)

    def check_model(self, caller: Caller, model: str) -> None:
        if caller.key is not None and not caller.key.allows_model(model):
            raise PermissionDenied(
                f"This API key may not use {model!r}; it is limited to: {', '.join(caller.key.models or ())}.",
                param="model", code="model_not_allowed",
            )

    def _limited(self, caller: Caller) -> bool:
        return caller.key is not None and (caller.key.rpm is not None or caller.key.tpm is not None)

    def needs_prompt_tokens(self, caller: Caller) -> bool:
        return self._limited(caller) or bool(self.table.budgets_for(caller.key_id, caller.team))

    async def admit(self, caller: Caller, deployments: list[str], prompt_tokens: int, max_tokens: int | None) -> Admission:
        """Rate limits, then a budget hold for the most this request could cost on any of ``deployments``."""
        admission = Admission(caller)
        output = max_tokens or self.default_output_tokens
        if self._limited(caller):
            assert caller.key is not None
            limits = RateLimits(rpm=caller.key.rpm, tpm=caller.key.tpm)
            admission.ticket = await self.limiter.acquire(caller.key_id, limits, tokens=prompt_tokens + output)
        if self.table.budgets_for(caller.key_id, caller.team):
            costs = [self.prices.max_cost(d, prompt_tokens, output) for d in deployments]
            known = [c for c in costs if c is not None]
            admission.reservation = await self.budgets.reserve(caller.key_id, caller.team, max(known) if known else None)
        return admission

    def price(self, deployment: str, usage: Usage) -> RequestCost:
        return price_request(usage, self.prices.price_of(deployment), self.prices.baseline_price)

    async def settle(self, admission: Admission | None, cost: RequestCost | None, usage: Usage | None) -> None:
        """Turn holds into actual spend (or release them when there is no cost, i.e. the call failed)."""
        if admission is None or admission.settled:
            return
        admission.settled = True
        if admission.reservation is not None:
            if cost is None:
                await self.budgets.release(admission.reservation)
            else:
                await self.budgets.settle(admission.reservation, cost.cost_usd or Decimal(0))
        if admission.ticket is not None:
            await self.limiter.settle_tokens(admission.ticket, usage.total_tokens if usage else 0)

    def record(self, rec: RequestRecord) -> None:
        if self.writer is None or not rec.model:
            return
        self.writer.submit(UsageRecord(
            model=rec.model, request_id=rec.request_id, key_id=rec.key_id, team=rec.team, route=rec.extra.get("route"), category=rec.extra.get("category"),
            model_version=rec.model_version, deployment=rec.deployment or None,
            prompt_tokens=rec.usage.prompt_tokens, completion_tokens=rec.usage.completion_tokens,
            cached_tokens=rec.usage.cached_tokens, usage_estimated=rec.usage.estimated,
            cost_usd=rec.cost_usd, baseline_cost_usd=rec.baseline_cost_usd, latency_ms=int(rec.latency_s * 1000),
            attempts=rec.attempts, decision_reason=rec.extra.get("decision"), config_hash=rec.config_hash,
            status="ok" if rec.error_code is None else rec.error_code,
        ))

    async def aclose(self) -> None:
        if self.writer is not None:
            await self.writer.aclose()
        for closer in (getattr(self.budgets, "aclose", None), getattr(self.limiter, "aclose", None)):
            if closer is not None:
                await closer()
        if self.db is not None:
            self.db.close()
