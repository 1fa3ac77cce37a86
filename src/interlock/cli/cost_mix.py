"""The inputs of a cost projection: the traffic mix, the models and their prices, and the routed picks.

A mix file (YAML or JSON) gives per category the share of calls and the tokens of a typical call;
it may also price its own models (then they replace the gateway config's catalog), name the
all-frontier and all-open models, and pin a category to a model. The format is in docs/economics.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Literal

import typer
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from interlock.accounting.catalog import format_location, load_catalog
from interlock.accounting.costs import AnyPrice, max_cost_usd
from interlock.accounting.pricebook import PriceBook
from interlock.accounting.pricing import PriceSpec, UnknownPrice, resolve_price
from interlock.accounting.scenarios import CallShape, project_all_on
from interlock.catalog.catalog import Catalog, CatalogModel
from interlock.config.deployments import DeploymentBase
from interlock.config.load import LoadedConfig
from interlock.errors import InterlockError
from interlock.routing.features import Features
from interlock.routing.policy import decide
from interlock.routing.quality import CATEGORIES, load_quality_table
from interlock.storage.database import default_sqlite_path, is_postgres_url, open_database
from interlock.accounting.ledger import SqlLedgerStore

# Used without --mix and without classified ledger traffic: (category, share, prompt, completion tokens).
DEFAULT_MIX: tuple[tuple[str, str, int, int], ...] = (
    ("customer_support", "0.30", 1500, 300),
    ("extraction", "0.20", 2000, 200),
    ("summarization", "0.15", 3000, 300),
    ("classification", "0.10", 800, 10),
    ("code", "0.10", 2000, 600),
    ("general_chat", "0.10", 600, 400),
    ("multi_step_reasoning", "0.05", 1500, 1200),
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CategoryLoad(_Strict):
    """One category of the mix: its share of calls and the tokens of a typical call."""

    share: Decimal = Field(ge=0, le=1)
    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0)
    cached_tokens: int = Field(0, ge=0, description="part of prompt_tokens read from the prompt cache")
    difficulty: float = Field(
        0.0, ge=0, le=1, description="ignored: kept so older mix files load (routing no longer uses difficulty)"
    )
    model: str | None = Field(
        None, description="serve this category with this model instead of asking the policy"
    )

    @model_validator(mode="after")
    def _cached_within_prompt(self) -> CategoryLoad:
        if self.cached_tokens > self.prompt_tokens:
            raise ValueError("cached_tokens cannot exceed prompt_tokens")
        return self


class ScenarioModel(_Strict):
    """A model priced in the mix file itself, for a projection that needs no gateway config."""

    open_weight: bool = False
    perimeter: Literal["internal", "external"] | None = Field(None, description="default: by open_weight")
    context_window: int = Field(131072, gt=0)
    price: PriceSpec


class MixFile(_Strict):
    categories: dict[str, CategoryLoad] = Field(min_length=1)
    frontier: str | None = Field(None, description="the all-frontier model (default: the config's baseline)")
    open: str | None = Field(None, description="the all-open model (default: the cheapest open-weight model)")
    models: dict[str, ScenarioModel] = {}

    @model_validator(mode="after")
    def _known_categories_and_whole(self) -> MixFile:
        unknown = sorted(set(self.categories) - set(CATEGORIES))
        if unknown:
            raise ValueError(f"unknown categories {unknown}; categories: {', '.join(CATEGORIES)}")
        total = sum((c.share for c in self.categories.values()), Decimal(0))
        if total != 1:
            raise ValueError(f"the category shares must add up to 1, not {total}")
        return self

    def shapes(self) -> list[CallShape]:
        return [
            CallShape(name, c.share, c.prompt_tokens, c.completion_tokens, c.cached_tokens)
            for name, c in self.categories.items()
        ]


def read_mix(path: Path) -> MixFile:
    """Parse a YAML or JSON mix file; errors name the path of the bad field."""
    try:
        return MixFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError) as exc:
        raise typer.BadParameter(f"{path}: {exc}", param_hint="--mix") from None
    except ValidationError as exc:
        lines = [f"{format_location(tuple(e['loc'])) or '(top level)'}: {e['msg']}" for e in exc.errors()]
        raise typer.BadParameter(f"{path}:\n  " + "\n  ".join(lines), param_hint="--mix") from None


def default_mix() -> MixFile:
    return MixFile(
        categories={
            name: CategoryLoad(share=Decimal(share), prompt_tokens=prompt, completion_tokens=completion)
            for name, share, prompt, completion in DEFAULT_MIX
        }
    )


def _mean(total: int, count: int) -> int:
    return int((Decimal(total) / count).to_integral_value(ROUND_HALF_EVEN))


def ledger_mix(url: str | None) -> tuple[MixFile, str] | None:
    """Shares and per-call token averages of the ledger's classified requests; None without any."""
    if not (url and is_postgres_url(url)):
        path = Path(url.removeprefix("sqlite:///")) if url else default_sqlite_path()
        if not path.is_file():
            return None
        url = str(path)
    db = open_database(url)
    try:
        rows = [r for r in SqlLedgerStore(db).spend(by="category") if r.group in CATEGORIES and r.requests]
    finally:
        db.close()
    if not rows:
        return None
    total = sum(r.requests for r in rows)
    shares = [(Decimal(r.requests) / total).quantize(Decimal("0.000001")) for r in rows]
    largest = shares.index(max(shares))
    shares[largest] += 1 - sum(shares, Decimal(0))  # rounding must not leave the mix short of a whole
    categories = {
        str(r.group): CategoryLoad(
            share=share,
            prompt_tokens=_mean(r.prompt_tokens, r.requests),
            completion_tokens=_mean(r.completion_tokens, r.requests),
            cached_tokens=_mean(r.cached_tokens, r.requests),
        )
        for r, share in zip(rows, shares, strict=True)
    }
    source = f"the ledger's {total:,} classified requests (averages per category)"
    return MixFile(categories=categories), source


class PricedModels:
    """The models a projection may use, each with a price and where that price came from.

    Models priced in the mix file replace the config's catalog; any other name is looked up in
    the config's deployments, then in the price catalog. ``used`` lists what was asked for.
    """

    def __init__(self, loaded: LoadedConfig, declared: dict[str, ScenarioModel]) -> None:
        self.price_catalog = load_catalog()
        self.used: list[str] = []
        self._deployment_prices: dict[str, AnyPrice] = {}
        self._sources: dict[str, str] = {}
        if declared:
            self.models = {name: CatalogModel(name, (_deployment(name, m),)) for name, m in declared.items()}
            for name, m in declared.items():
                self._deployment_prices[name] = resolve_price(m.price, self.price_catalog)
                self._sources[name] = "mix file"
            closed = [
                n
                for n, m in declared.items()
                if not m.open_weight and _blended(self._deployment_prices[n]) >= 0
            ]
            self.baseline = max(closed, key=lambda n: _blended(self._deployment_prices[n]), default=None)
        else:
            book = PriceBook(loaded.config, self.price_catalog, source=loaded.source)
            self.models = {
                n: m
                for n, m in Catalog(loaded.config).models.items()
                if getattr(m.primary.capabilities, "chat", True)
            }
            self._deployment_prices.update(book.prices)
            for name, model in self.models.items():
                self._sources[name] = f"deployment {model.primary.name} in {loaded.source}"
            self.baseline = book.baseline_model
        if self.baseline is None:
            self.baseline = self.price_catalog.most_expensive().version

    def price(self, model: str | None) -> AnyPrice:
        """The model's price (its first deployment's); the price catalog's for other names.

        ``None`` (no model can serve) is unpriced."""
        if model is None:
            return UnknownPrice(reason="no model can serve these calls")
        if model not in self.used:
            self.used.append(model)
        return self._lookup(model)

    def _lookup(self, model: str) -> AnyPrice:
        if model in self.models:
            return self._deployment_prices[self.models[model].primary.name]
        entry = self.price_catalog.find(model)
        if entry is None:
            raise ValueError(
                f"no price for model {model!r}: it is neither in the catalog nor in the price catalog"
            )
        self._sources.setdefault(model, f"price catalog: {entry.version}, {entry.effective_date}")
        return entry.price

    def source(self, model: str) -> str:
        return self._sources.get(model, "-")

    def open_weight(self, model: str) -> bool:
        return model in self.models and self.models[model].primary.open_weight

    def frontier(self, named: str | None) -> str:
        model = named or self.baseline
        assert model is not None
        self.price(model)
        return model

    def cheapest_open(self, shapes: list[CallShape], calls: int, named: str | None) -> str | None:
        """``named``, else the open-weight model that fits every call and costs least for this mix."""
        if named is not None:
            self.price(named)
            return named
        longest = max(s.prompt_tokens + s.completion_tokens for s in shapes)
        costs = []
        for name, model in self.models.items():
            price = self._lookup(name)
            fits = model.primary.context_window >= longest  # it must be able to serve every call of the mix
            if model.primary.open_weight and fits and not isinstance(price, UnknownPrice):
                costs.append((project_all_on(name, calls, shapes, price).monthly_cost_usd, name))
        if not costs:
            return None
        cheapest = min(costs)[1]
        self.price(cheapest)
        return cheapest

    def cost_of(self, d: DeploymentBase, prompt_tokens: int, output_tokens: int) -> Decimal | None:
        return max_cost_usd(prompt_tokens, output_tokens, self._deployment_prices[d.name])


def _deployment(name: str, m: ScenarioModel) -> DeploymentBase:
    perimeter = m.perimeter or ("internal" if m.open_weight else "external")
    return DeploymentBase(
        name=name,
        model=name,
        vendor="mix file",
        open_weight=m.open_weight,
        perimeter=perimeter,
        context_window=m.context_window,
        price=m.price,
    )


def _blended(price: AnyPrice) -> Decimal:
    return max_cost_usd(1_000_000, 1_000_000, price) or Decimal(-1)


@dataclass(frozen=True, slots=True)
class RoutedPick:
    """The model serving a category when routed (None: no candidate can), and why."""

    model: str | None
    why: str


def route_mix(loaded: LoadedConfig, priced: PricedModels, mix: MixFile) -> dict[str, RoutedPick]:
    """Per category, the pinned model or the one the routing policy picks for a typical call."""
    routing = loaded.config.routing
    route = routing.auto
    table = load_quality_table(routing.quality_table)
    fraction = routing.error_cost_fractions[route.error_cost]
    candidates = [priced.models[n] for n in route.candidates or () if n in priced.models] or list(
        priced.models.values()
    )
    picks: dict[str, RoutedPick] = {}
    for name, load in mix.categories.items():
        if load.model is not None:
            priced.price(load.model)
            picks[name] = RoutedPick(load.model, "pinned in the mix file")
            continue
        features = Features(
            category=name,
            confidence=1.0,
            difficulty=None,
            prompt_tokens=load.prompt_tokens,
            output_tokens=load.completion_tokens,
        )
        try:
            decision = decide(route, features, candidates, table, fraction, priced.cost_of)
        except InterlockError as exc:  # the gateway would refuse these calls: reported, not priced
            picks[name] = RoutedPick(None, exc.message.split(" Candidates:")[0])
            continue
        priced.price(decision.chosen.model)
        picks[name] = RoutedPick(decision.chosen.model, "routing policy")
    return picks
