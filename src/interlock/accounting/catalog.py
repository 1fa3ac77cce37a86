"""The price catalog: frontier list prices per model version, with source and date.

Loaded from ``interlock/data/prices.yaml`` (or another file of the same shape) and
validated strictly; errors name the path of the bad field in the file.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError, model_validator

from interlock.accounting.pricing import PerTokenPrice


class PriceCatalogError(ValueError):
    """The price file is unreadable or invalid, or a model has no catalog entry."""


class PriceSource(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    url: HttpUrl
    title: str = Field(min_length=1)


class CatalogEntry(BaseModel):
    """One model version's list price, in force from ``effective_date``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: str = Field(min_length=1)
    model: str = Field(min_length=1, description="Alias clients use, e.g. gpt-4.1.")
    version: str = Field(min_length=1, description="Dated snapshot, e.g. gpt-4.1-2025-04-14.")
    input_per_mtok: Decimal = Field(ge=0)
    cached_input_per_mtok: Decimal | None = Field(default=None, ge=0)
    output_per_mtok: Decimal = Field(ge=0)
    effective_date: date
    source: PriceSource
    note: str | None = None

    @property
    def price(self) -> PerTokenPrice:
        return PerTokenPrice(
            input_per_mtok=self.input_per_mtok,
            cached_input_per_mtok=self.cached_input_per_mtok,
            output_per_mtok=self.output_per_mtok,
        )

    @property
    def blended_per_mtok(self) -> Decimal:
        """Cost of one million input plus one million output tokens; ranks expense."""
        return self.input_per_mtok + self.output_per_mtok


class PriceCatalog(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: int = Field(alias="schema", ge=1, le=1)
    currency: str = Field(pattern="^USD$")
    notes: str | None = None
    models: tuple[CatalogEntry, ...]

    @model_validator(mode="after")
    def _no_duplicate_dates(self) -> PriceCatalog:
        seen: set[tuple[str, date]] = set()
        for index, entry in enumerate(self.models):
            if (entry.version, entry.effective_date) in seen:
                raise ValueError(
                    f"models[{index}]: {entry.version} has two entries effective {entry.effective_date}"
                )
            seen.add((entry.version, entry.effective_date))
        return self

    def find(self, model: str, at: date | None = None) -> CatalogEntry | None:
        """The entry for ``model`` (alias or version) in force on ``at`` (default: the newest).

        A version match wins over an alias match, so a dated snapshot is never priced as
        whatever the alias points at now.
        """
        for field in ("version", "model"):
            candidates = [
                e
                for e in self.models
                if getattr(e, field) == model and (at is None or e.effective_date <= at)
            ]
            if candidates:
                return max(candidates, key=lambda e: (e.effective_date, e.version))
        return None

    def require(self, model: str, at: date | None = None) -> CatalogEntry:
        entry = self.find(model, at)
        if entry is None:
            when = f" on {at.isoformat()}" if at else ""
            raise PriceCatalogError(f"no catalog price for model {model!r}{when}")
        return entry

    def current(self, at: date | None = None) -> list[CatalogEntry]:
        """One entry per version: the price in force on ``at`` (default: the newest)."""
        versions = dict.fromkeys(e.version for e in self.models)
        found = (self.find(v, at) for v in versions)
        return [e for e in found if e is not None]

    def most_expensive(self, at: date | None = None) -> CatalogEntry:
        """The default baseline: highest input+output price, newest on a tie."""
        entries = self.current(at)
        if not entries:
            raise PriceCatalogError("the price catalog has no entries")
        return max(entries, key=lambda e: (e.blended_per_mtok, e.effective_date, e.version))


def describe_validation_error(error: ValidationError, source: str) -> str:
    """One line per problem, each naming its path in the file: ``models[2].input_per_mtok``."""
    lines = [f"{source}: {error.error_count()} invalid field(s)"]
    for item in error.errors():
        lines.append(f"  {format_location(item['loc']) or '(top level)'}: {item['msg']}")
    return "\n".join(lines)


def format_location(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def parse_catalog(data: Any, source: str = "<prices>") -> PriceCatalog:
    try:
        return PriceCatalog.model_validate(data)
    except ValidationError as exc:
        raise PriceCatalogError(describe_validation_error(exc, source)) from None


def load_catalog(path: str | Path | None = None) -> PriceCatalog:
    """Load a price file; without ``path`` the catalog shipped with interlock."""
    if path is None:
        text = resources.files("interlock").joinpath("data", "prices.yaml").read_text("utf-8")
        source = "interlock/data/prices.yaml"
    else:
        try:
            text = Path(path).read_text("utf-8")
        except OSError as exc:
            raise PriceCatalogError(f"cannot read price file {path}: {exc.strerror}") from None
        source = str(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PriceCatalogError(f"{source}: not valid YAML: {exc}") from None
    return parse_catalog(data, source)
