"""Spend budgets checked before the call: the reservation protocol and its shared types.

A call first ``reserve``s its maximum possible cost against every budget that covers it
(its key's and its team's); the reservation is refused with ``BudgetExceeded`` if spent
plus held plus this amount would pass a limit. After the call it is ``settle``d to the
actual cost, or ``release``d if the call failed. A hold that is never settled (a crashed
process) expires after ``hold_ttl_s`` so it cannot eat the budget for the whole period.

Amounts are kept as integer nano-dollars inside stores, so counters add exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_CEILING, Decimal
from typing import Literal, Protocol

from interlock.accounting.periods import Period, next_reset, window_id
from interlock.errors import BudgetExceeded

NANOS_PER_USD = Decimal(1_000_000_000)
DEFAULT_HOLD_TTL_S = 900.0

Scope = Literal["key", "team"]


@dataclass(frozen=True, slots=True)
class Budget:
    """A spend limit for one key or one team, renewed every period."""

    scope: Scope
    owner: str
    limit_usd: Decimal
    period: Period = Period.MONTH

    @property
    def name(self) -> str:
        return f"{self.scope} {self.owner!r} {self.period.adjective} budget"


@dataclass(frozen=True, slots=True)
class BudgetWindow:
    """One budget in one period: the counter a reservation was charged to."""

    budget: Budget
    window: str
    resets_at: datetime

    @classmethod
    def current(cls, budget: Budget, now: datetime) -> BudgetWindow:
        return cls(budget, window_id(budget.period, now), next_reset(budget.period, now))

    @property
    def counter_id(self) -> str:
        return f"{self.budget.scope}:{self.budget.owner}:{self.budget.period.value}:{self.window}"


@dataclass(frozen=True, slots=True)
class Reservation:
    id: str
    key_id: str
    team: str | None
    amount_usd: Decimal
    windows: tuple[BudgetWindow, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    budget: Budget
    spent_usd: Decimal
    held_usd: Decimal
    resets_at: datetime

    @property
    def remaining_usd(self) -> Decimal:
        return self.budget.limit_usd - self.spent_usd - self.held_usd


SpentBefore = Callable[[Budget, datetime], Decimal]
"""What ``budget`` had spent since the given window start, per the ledger (blocking)."""


class BudgetLimits(Protocol):
    """Which budgets cover a call made with ``key_id`` for ``team``."""

    def budgets_for(self, key_id: str, team: str | None) -> Sequence[Budget]: ...


class BudgetStore(Protocol):
    """Where spent and held amounts live; in one process or shared through Redis."""

    async def reserve(self, key_id: str, team: str | None, max_cost: Decimal | None) -> Reservation: ...

    async def settle(self, reservation: Reservation, actual_cost: Decimal | None) -> None: ...

    async def release(self, reservation: Reservation) -> None: ...

    async def status(self, key_id: str, team: str | None) -> list[BudgetStatus]: ...


class BudgetTable:
    """Budgets held in memory: team budgets from config, key budgets from the key store.

    The gateway sets a key's budget when it authenticates the key, so keys created by
    the CLI while the server runs are covered from their first call.
    """

    def __init__(self) -> None:
        self._keys: dict[str, Budget] = {}
        self._teams: dict[str, Budget] = {}

    def set_key_budget(
        self, key_id: str, limit_usd: Decimal | None, period: Period | str = Period.MONTH
    ) -> None:
        if limit_usd is None:
            self._keys.pop(key_id, None)
        else:
            self._keys[key_id] = Budget("key", key_id, Decimal(limit_usd), Period(period))

    def set_team_budget(
        self, team: str, limit_usd: Decimal | None, period: Period | str = Period.MONTH
    ) -> None:
        if limit_usd is None:
            self._teams.pop(team, None)
        else:
            self._teams[team] = Budget("team", team, Decimal(limit_usd), Period(period))

    def budgets_for(self, key_id: str, team: str | None) -> Sequence[Budget]:
        found = [self._keys.get(key_id), self._teams.get(team) if team is not None else None]
        return [b for b in found if b is not None]


def to_nanos(amount: Decimal) -> int:
    """USD to integer nano-dollars, rounding up so a hold never under-reserves."""
    return int((amount * NANOS_PER_USD).to_integral_value(rounding=ROUND_CEILING))


def from_nanos(nanos: int) -> Decimal:
    return Decimal(nanos) / NANOS_PER_USD


def budget_exceeded(
    window: BudgetWindow, spent_nanos: int, held_nanos: int, amount: Decimal, now: datetime
) -> BudgetExceeded:
    budget = window.budget
    resets = window.resets_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    message = (
        f"The {budget.name} of ${budget.limit_usd:.2f} would be exceeded: "
        f"${from_nanos(spent_nanos):.4f} spent and ${from_nanos(held_nanos):.4f} held by calls in "
        f"flight, and this call may cost up to ${amount:.4f}. The budget resets at {resets}."
    )
    return BudgetExceeded(
        message,
        budget=budget.name,
        resets_at=window.resets_at,
        retry_after=max(1.0, (window.resets_at - now).total_seconds()),
    )


def check_amount(amount: Decimal | None) -> Decimal:
    """Unpriced calls reserve and settle $0; they are flagged in the ledger instead."""
    if amount is None:
        return Decimal(0)
    if amount < 0:
        raise ValueError(f"a cost cannot be negative: {amount}")
    return amount
