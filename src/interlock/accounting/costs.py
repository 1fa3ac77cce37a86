"""What a request cost, what it would have cost on the baseline model, and the difference.

Token counts follow the OpenAI convention: ``cached_tokens`` is the part of
``prompt_tokens`` served from the prompt cache. All money is ``Decimal`` USD, exact for
exact prices; ``None`` means "unpriced", never zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from interlock.accounting.pricing import MILLION, GpuHourPrice, PerTokenPrice, UnknownPrice

AnyPrice = PerTokenPrice | GpuHourPrice | UnknownPrice


class TokenUsage(Protocol):
    """Anything carrying token counts, e.g. ``interlock.providers.base.Usage``."""

    @property
    def prompt_tokens(self) -> int: ...

    @property
    def completion_tokens(self) -> int: ...

    @property
    def cached_tokens(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Tokens:
    """Plain token counts, for callers that have no provider ``Usage`` at hand."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0


def cost_usd(usage: TokenUsage, price: AnyPrice) -> Decimal | None:
    """The cost of ``usage`` at ``price``; ``None`` when the price is unknown.

    per_token: (prompt - cached) * input + cached * cached_input + completion * output.
    gpu_hour: (prompt + completion) * the derived per-Mtok rate.
    """
    prompt = max(usage.prompt_tokens, 0)
    completion = max(usage.completion_tokens, 0)
    cached = min(max(usage.cached_tokens, 0), prompt)
    if isinstance(price, PerTokenPrice):
        micro = (
            (prompt - cached) * price.input_per_mtok
            + cached * price.effective_cached_input_per_mtok
            + completion * price.output_per_mtok
        )
        return micro / MILLION
    if isinstance(price, GpuHourPrice):
        return (prompt + completion) * price.usd_per_mtok / MILLION
    return None


def max_cost_usd(prompt_tokens: int, max_tokens: int, price: AnyPrice) -> Decimal | None:
    """The most a call can cost: its prompt uncached plus ``max_tokens`` of output.

    This is what a budget reserves before the call is sent.
    """
    return cost_usd(Tokens(prompt_tokens=prompt_tokens, completion_tokens=max_tokens), price)


@dataclass(frozen=True, slots=True)
class RequestCost:
    """A request's cost and its counterfactual cost on the baseline model."""

    cost_usd: Decimal | None
    baseline_cost_usd: Decimal | None

    @property
    def savings_usd(self) -> Decimal | None:
        if self.cost_usd is None or self.baseline_cost_usd is None:
            return None
        return self.baseline_cost_usd - self.cost_usd

    @property
    def priced(self) -> bool:
        return self.cost_usd is not None


def price_request(usage: TokenUsage, price: AnyPrice, baseline: AnyPrice | None) -> RequestCost:
    """Cost on the serving deployment and on the baseline, for the same tokens.

    The baseline sees the same cache hits, so cached-input savings are not credited to
    routing. Without a baseline price the baseline cost is ``None``.
    """
    baseline_cost = cost_usd(usage, baseline) if baseline is not None else None
    return RequestCost(cost_usd=cost_usd(usage, price), baseline_cost_usd=baseline_cost)


_QUANTUM = {places: Decimal(1).scaleb(-places) for places in range(13)}
"""``format_usd``'s quanta, made once: making one costs about as much as the rounding."""


def format_usd(amount: Decimal | None, places: int = 8) -> str:
    """Render for headers and tables: fixed decimals, ``unknown`` for an unpriced cost."""
    if amount is None:
        return "unknown"
    return f"{amount.quantize(_QUANTUM.get(places) or Decimal(1).scaleb(-places)):f}"
