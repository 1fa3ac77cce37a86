"""Monthly cost of a traffic mix under a pricing policy: the arithmetic behind "what would
5 million calls a month cost on the frontier model, on open models, and as routed".

A mix is a list of call shapes (tokens per call and share of calls); a policy says which
price each shape is served at. Every figure comes with the tokens and prices it assumed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from interlock.accounting.costs import AnyPrice, Tokens, cost_usd


@dataclass(frozen=True, slots=True)
class CallShape:
    """One kind of call in a mix: ``share`` of all calls, each with these token counts."""

    name: str
    share: Decimal
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0

    @property
    def tokens(self) -> Tokens:
        return Tokens(self.prompt_tokens, self.completion_tokens, self.cached_tokens)


@dataclass(frozen=True, slots=True)
class ScenarioLine:
    shape: CallShape
    price: AnyPrice
    calls: Decimal
    cost_per_call_usd: Decimal | None

    @property
    def monthly_cost_usd(self) -> Decimal | None:
        return None if self.cost_per_call_usd is None else self.cost_per_call_usd * self.calls


@dataclass(frozen=True, slots=True)
class ScenarioCost:
    name: str
    calls_per_month: int
    lines: tuple[ScenarioLine, ...]

    @property
    def monthly_cost_usd(self) -> Decimal:
        """The priced part; ``unpriced_calls`` says how much of the mix had no price."""
        return sum((line.monthly_cost_usd or Decimal(0) for line in self.lines), Decimal(0))

    @property
    def unpriced_calls(self) -> Decimal:
        return sum((line.calls for line in self.lines if line.cost_per_call_usd is None), Decimal(0))


def check_mix(mix: Sequence[CallShape]) -> None:
    if not mix:
        raise ValueError("a traffic mix needs at least one call shape")
    total = sum((shape.share for shape in mix), Decimal(0))
    if total != 1:
        raise ValueError(f"the shares of a traffic mix must add up to 1, not {total}")


def project_scenario(
    name: str,
    calls_per_month: int,
    mix: Sequence[CallShape],
    price_for: Callable[[CallShape], AnyPrice],
) -> ScenarioCost:
    """Cost of ``calls_per_month`` calls split as ``mix``, each shape at ``price_for(shape)``."""
    check_mix(mix)
    lines = []
    for shape in mix:
        price = price_for(shape)
        calls = shape.share * calls_per_month
        lines.append(ScenarioLine(shape, price, calls, cost_usd(shape.tokens, price)))
    return ScenarioCost(name, calls_per_month, tuple(lines))


def project_all_on(
    name: str, calls_per_month: int, mix: Sequence[CallShape], price: AnyPrice
) -> ScenarioCost:
    """Every call on one price: the all-frontier or all-open scenario."""
    return project_scenario(name, calls_per_month, mix, lambda _shape: price)
