"""Metering one request: who is calling (virtual keys), may they (rate limits, budgets), what it cost.

Budgets are enforced before the call: the request's maximum possible cost on any deployment
it may reach is reserved (``accounting/maximum.py``: every field the model reads, ``n`` choices,
the deployment's output limit), settled to the actual cost afterwards, and released on failure.
Every finished request becomes a usage record in the ledger, written off the request path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from interlock.accounting.budgets import Budget, BudgetStore, BudgetTable, Reservation
from interlock.accounting.costs import RequestCost, price_request
from interlock.accounting.instances import InstanceRegistry, unshared_budget_warning
from interlock.accounting.key_auth import KeyAuthenticator
from interlock.accounting.keys import ApiKey, SqlKeyStore
from interlock.accounting.ledger import LedgerSink, SqlLedgerStore
from interlock.accounting.maximum import OutputCeiling, input_tokens_of, prompt_tokens_of, requested_output
from interlock.accounting.pricebook import PriceBook
from interlock.accounting.ratelimits import RateLimiter, RateLimits, RateTicket
from interlock.accounting.records import WireRecord, money_text
from interlock.accounting.stores import open_counters
from interlock.accounting.writer import LedgerWriter
from interlock.config.schema import GatewayConfig
from interlock.errors import PermissionDenied
from interlock.observability.record import RequestRecord
from interlock.storage.database import ENV_DB_URL, Database, open_database, utc_now_iso
from interlock.types import Usage

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


ModelFilter = Callable[[str], bool]
"""Whether a caller's key may use a catalog model."""

HEARTBEAT_S = 15.0


class Metering:
    def __init__(self, config: GatewayConfig, prices: PriceBook, *, instance_id: str | None = None,
                 ledger: LedgerSink | None = None) -> None:
        """``instance_id`` names this process in the database (default: host, pid and a per-process token);
        ``ledger`` is where the ledger writer's batches go (default: this process's own connection)."""
        acc = config.accounting
        self.prices = prices
        self.default_output_tokens = acc.default_output_tokens
        self.ceilings = {d.name: OutputCeiling.of(d, acc.default_output_tokens) for d in config.deployments}
        needs_db = config.server.auth or acc.ledger
        self.database_url = self.database_url_for(config)
        self.db: Database | None = open_database(self.database_url) if needs_db else None
        self.auth = KeyAuthenticator(SqlKeyStore(self.db)) if config.server.auth and self.db else None
        self.table = BudgetTable()
        for t in acc.teams:
            self.table.set_team_budget(t.team, t.budget_usd, t.period)
        self.budgets: BudgetStore
        self.limiter: RateLimiter
        # Counters start from the ledger's spend this period, so restarts, reloads and a Redis
        # that lost its data do not hand a period's budget out again.
        spent = self._ledger_spend if self.db is not None and acc.ledger else None
        counters = open_counters(acc, self.table, spent, self.db)
        self.budgets, self.limiter = counters.budgets, counters.limiter
        self.writer = LedgerWriter(ledger or SqlLedgerStore(self.db)) if acc.ledger and self.db else None
        self.instances = (InstanceRegistry(self.db, counters.scope, instance_id=instance_id)
                          if self.writer is not None and self.db is not None else None)
        self._heartbeat: asyncio.Task[None] | None = None

    @staticmethod
    def database_url_for(config: GatewayConfig) -> str | None:
        """The keys and ledger database: the config's URL, else ``INTERLOCK_DATABASE_URL``, else (None) the default file."""
        return config.accounting.database_url or os.environ.get(ENV_DB_URL)

    async def start(self, say: Callable[[str], None] = lambda _m: None) -> None:
        """Announce this process in the database; warn when others share the ledger but not the budgets."""
        if self.instances is None:
            return
        registry = self.instances
        await asyncio.to_thread(registry.beat)
        warning = unshared_budget_warning(registry.budgets, await asyncio.to_thread(registry.peers))
        if warning:
            log.warning(warning)
            say(f"WARNING: {warning}")
        self._heartbeat = asyncio.get_running_loop().create_task(self._beat(registry), name="gateway-heartbeat")

    async def _beat(self, registry: InstanceRegistry) -> None:
        warned: set[str] = set()
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            try:
                await asyncio.to_thread(registry.beat)
                peers = [p for p in await asyncio.to_thread(registry.peers) if p.instance_id not in warned]
            except Exception as exc:  # the database's own errors vary by backend; the ledger writer reports them too
                log.warning("gateway heartbeat failed: %s", type(exc).__name__)
                continue
            warning = unshared_budget_warning(registry.budgets, peers)
            if warning:
                log.warning(warning)
                warned.update(p.instance_id for p in peers)

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

    def models_for_route(self, caller: Caller, route: str, candidates: Iterable[str]) -> ModelFilter | None:
        """Which of a route's candidate models the caller's key may reach (None: all of them).

        A key limited to some models reaches only those through any route (named by ``model`` or by
        ``x-interlock-route``); naming the route itself in the key's list allows all its candidates.
        None of them allowed: 403, before anything is sent.
        """
        key = caller.key
        if key is None or not key.models or route in key.models:
            return None
        names = list(candidates)
        allowed = frozenset(n for n in names if key.allows_model(n))
        if not allowed:
            raise PermissionDenied(
                f"This API key may not use route {route!r}: none of its models ({', '.join(names)}) is among "
                f"the key's models ({', '.join(key.models)}).",
                param="model", code="model_not_allowed",
            )
        return allowed.__contains__

    def _limited(self, caller: Caller) -> bool:
        return caller.key is not None and (caller.key.rpm is not None or caller.key.tpm is not None)

    def needs_prompt_tokens(self, caller: Caller) -> bool:
        return self._limited(caller) or bool(self.table.budgets_for(caller.key_id, caller.team))

    async def admit(
        self, caller: Caller, deployments: list[str], body: Mapping[str, Any], message_tokens: int | None = None
    ) -> Admission:
        """Rate limits, then a budget hold for the most this chat request could cost on any of ``deployments``.

        ``body`` is what the upstream receives; ``message_tokens`` its messages' count when known already.
        """
        if not self.needs_prompt_tokens(caller):
            return Admission(caller)
        prompt = prompt_tokens_of(body, message_tokens or None)
        requested, choices = requested_output(body)
        outputs = {d: self.ceilings[d].tokens(requested, choices) for d in deployments if d in self.ceilings}
        return await self._admit(caller, prompt, outputs)

    async def admit_embedding(self, caller: Caller, deployment: str, payload: Mapping[str, Any]) -> Admission:
        """The same limits for an embeddings call: its input is all it can cost."""
        if not self.needs_prompt_tokens(caller):
            return Admission(caller)
        return await self._admit(caller, input_tokens_of(payload.get("input")), {deployment: 0})

    async def _admit(self, caller: Caller, prompt_tokens: int, outputs: Mapping[str, int]) -> Admission:
        admission = Admission(caller)
        if self._limited(caller):
            assert caller.key is not None
            limits = RateLimits(rpm=caller.key.rpm, tpm=caller.key.tpm)
            tokens = prompt_tokens + max(outputs.values(), default=self.default_output_tokens)
            admission.ticket = await self.limiter.acquire(caller.key_id, limits, tokens=tokens)
        if self.table.budgets_for(caller.key_id, caller.team):
            costs = [self.prices.max_cost(d, prompt_tokens, out) for d, out in outputs.items()]
            known = [c for c in costs if c is not None]
            try:
                admission.reservation = await self.budgets.reserve(
                    caller.key_id, caller.team, max(known) if known else None)
            except BaseException:
                await self.settle(admission, None, None)  # the refused call used no tokens of the minute
                raise
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
        self.writer.submit_wire(usage_wire(rec))

    async def aclose(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
        if self.instances is not None:
            try:
                await asyncio.to_thread(self.instances.leave)
            except Exception as exc:  # the row goes stale on its own
                log.warning("could not remove this gateway's heartbeat row: %s", type(exc).__name__)
        if self.writer is not None:
            await self.writer.aclose()
        for closer in (getattr(self.budgets, "aclose", None), getattr(self.limiter, "aclose", None)):
            if closer is not None:
                await closer()
        if self.db is not None:
            self.db.close()


def usage_wire(rec: RequestRecord) -> WireRecord:
    """The ledger row of a finished request, made straight in wire form: ``record_wire`` of the
    ``UsageRecord`` it stands for (a frozen dataclass of 20 fields costs more to build than the row)."""
    usage, extra = rec.usage, rec.extra
    return (utc_now_iso(), rec.request_id, rec.key_id, rec.team, extra.get("route"),
            extra.get("category"), rec.model, rec.model_version, rec.deployment or None, usage.prompt_tokens,
            usage.completion_tokens, usage.cached_tokens, usage.estimated, money_text(rec.cost_usd),
            money_text(rec.baseline_cost_usd), int(rec.latency_s * 1000), rec.attempts, extra.get("decision"),
            rec.config_hash, "ok" if rec.error_code is None else rec.error_code)
