"""How a deployment is priced: a discriminated union on ``type``.

``per_token`` is a frontier API's list price; ``gpu_hour`` prices self-hosted hardware
and derives a cost per million tokens from it; ``unknown`` is an explicit admission that
no price is known (reported, never silently $0); ``catalog`` points at an entry of the
price catalog and is resolved into ``per_token`` at startup.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

if TYPE_CHECKING:
    from datetime import date

    from interlock.accounting.catalog import PriceCatalog

MILLION = Decimal(1_000_000)
SECONDS_PER_HOUR = Decimal(3600)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PerTokenPrice(_Strict):
    """List price in USD per million tokens; cached input defaults to the input price."""

    type: Literal["per_token"] = "per_token"
    input_per_mtok: Decimal = Field(ge=0)
    cached_input_per_mtok: Decimal | None = Field(default=None, ge=0)
    output_per_mtok: Decimal = Field(ge=0)

    @property
    def effective_cached_input_per_mtok(self) -> Decimal:
        if self.cached_input_per_mtok is None:
            return self.input_per_mtok
        return self.cached_input_per_mtok


class GpuHourPrice(_Strict):
    """Self-hosted hardware, priced by the GPU-hour.

    ``throughput_tokens_per_s`` is the aggregate rate of the whole deployment (all GPUs,
    all concurrent requests, prompt plus completion tokens) at full load, and
    ``utilisation`` the fraction of paid hours that do useful work. Then::

        usd_per_mtok = gpu_count * usd_per_gpu_hour * 1e6
                       / (throughput_tokens_per_s * 3600 * utilisation)

    Every token (prompt, cached or completion) is charged at that one rate. ``billing``
    and ``throughput_source`` are recorded for reports; the rate you enter already
    reflects whether the hours are reserved or on demand.
    """

    type: Literal["gpu_hour"] = "gpu_hour"
    gpu_type: str = Field(min_length=1)
    gpu_count: int = Field(ge=1)
    usd_per_gpu_hour: Decimal = Field(gt=0)
    billing: Literal["reserved", "on_demand"] = "on_demand"
    throughput_tokens_per_s: Decimal = Field(gt=0)
    throughput_source: Literal["measured", "declared"] = "declared"
    utilisation: Decimal = Field(gt=0, le=1)

    @property
    def usd_per_hour(self) -> Decimal:
        return self.gpu_count * self.usd_per_gpu_hour

    @property
    def usd_per_mtok(self) -> Decimal:
        tokens_per_hour = self.throughput_tokens_per_s * SECONDS_PER_HOUR * self.utilisation
        return self.usd_per_hour * MILLION / tokens_per_hour


class UnknownPrice(_Strict):
    """No price is known; costs come out as ``None`` and are reported as unpriced."""

    type: Literal["unknown"] = "unknown"
    reason: str | None = None


class CatalogPrice(_Strict):
    """Use the price catalog's entry for ``model`` (a model name or dated version)."""

    type: Literal["catalog"] = "catalog"
    model: str = Field(min_length=1)


def _price_type(value: Any) -> str | None:
    """``type`` may be left out for a plain per-token price."""
    if isinstance(value, dict):
        return str(value.get("type", "per_token"))
    return getattr(value, "type", None)


_PRICE_UNION = Discriminator(
    _price_type,
    custom_error_type="price_type",
    custom_error_message="price type must be one of per_token, gpu_hour, unknown, catalog",
)

Price = Annotated[
    Annotated[PerTokenPrice, Tag("per_token")]
    | Annotated[GpuHourPrice, Tag("gpu_hour")]
    | Annotated[UnknownPrice, Tag("unknown")],
    _PRICE_UNION,
]
"""A resolved price, as cost computation takes it."""

PriceSpec = Annotated[
    Annotated[PerTokenPrice, Tag("per_token")]
    | Annotated[GpuHourPrice, Tag("gpu_hour")]
    | Annotated[UnknownPrice, Tag("unknown")]
    | Annotated[CatalogPrice, Tag("catalog")],
    _PRICE_UNION,
]
"""A price as written in configuration (``type`` defaults to ``per_token``);
``catalog`` entries are still to be resolved with ``resolve_price``."""


def resolve_price(
    spec: PerTokenPrice | GpuHourPrice | UnknownPrice | CatalogPrice,
    catalog: PriceCatalog,
    at: date | None = None,
) -> PerTokenPrice | GpuHourPrice | UnknownPrice:
    """Turn a configured price into a resolved one; an unknown catalog model is an error."""
    if isinstance(spec, CatalogPrice):
        return catalog.require(spec.model, at).price
    return spec
