"""The prices in force for one config: each deployment's resolved price and the baseline's.

The baseline is the counterfactual for savings: ``accounting.baseline_model`` when set, else the
most expensive frontier (external, closed) model in the catalog, else the most expensive model
of the price catalog (so an all-open portfolio still reports savings against frontier prices).
"""

from __future__ import annotations

from decimal import Decimal

from interlock.accounting.catalog import PriceCatalog, PriceCatalogError, load_catalog
from interlock.accounting.costs import AnyPrice, max_cost_usd
from interlock.accounting.pricing import GpuHourPrice, PerTokenPrice, resolve_price
from interlock.config.load import ConfigError
from interlock.config.schema import GatewayConfig


def _blended(price: AnyPrice) -> Decimal:
    if isinstance(price, PerTokenPrice):
        return price.input_per_mtok + price.output_per_mtok
    if isinstance(price, GpuHourPrice):
        return 2 * price.usd_per_mtok
    return Decimal(-1)


class PriceBook:
    def __init__(self, config: GatewayConfig, catalog: PriceCatalog | None = None, source: str = "<config>") -> None:
        self.catalog = catalog or load_catalog()
        self.prices: dict[str, AnyPrice] = {}
        problems = []
        for i, d in enumerate(config.deployments):
            try:
                self.prices[d.name] = resolve_price(d.price, self.catalog)
            except PriceCatalogError as exc:
                problems.append(f"deployments[{i}].price.model: {exc}")
        if problems:
            raise ConfigError(source, problems)
        self.unpriced = sorted(n for n, p in self.prices.items() if _blended(p) < 0)
        self.baseline_model, self.baseline_price = self._baseline(config)

    def _baseline(self, config: GatewayConfig) -> tuple[str, AnyPrice]:
        wanted = config.accounting.baseline_model
        if wanted is not None:
            d = next(d for d in config.deployments if d.model == wanted)
            return wanted, self.prices[d.name]
        frontier = [d for d in config.deployments if d.perimeter == "external" and not d.open_weight
                    and _blended(self.prices[d.name]) >= 0 and not d.capabilities.embeddings]
        if frontier:
            top = max(frontier, key=lambda d: _blended(self.prices[d.name]))
            return top.model, self.prices[top.name]
        entry = self.catalog.most_expensive()
        return entry.version, entry.price

    def price_of(self, deployment: str) -> AnyPrice:
        return self.prices[deployment]

    def max_cost(self, deployment: str, prompt_tokens: int, output_tokens: int) -> Decimal | None:
        return max_cost_usd(prompt_tokens, output_tokens, self.prices[deployment])
