"""Price specs as written in config: the ``type`` union, its validation and resolution."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from interlock.accounting.catalog import PriceCatalogError, load_catalog
from interlock.accounting.pricing import (
    CatalogPrice,
    GpuHourPrice,
    PerTokenPrice,
    PriceSpec,
    UnknownPrice,
    resolve_price,
)


class Deployment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    price: PriceSpec


def test_each_type_parses_to_its_model() -> None:
    gpu = {
        "type": "gpu_hour",
        "gpu_type": "L4",
        "gpu_count": 1,
        "usd_per_gpu_hour": 0.8,
        "billing": "reserved",
        "throughput_tokens_per_s": 400,
        "throughput_source": "measured",
        "utilisation": 0.4,
    }
    assert isinstance(Deployment(price=gpu).price, GpuHourPrice)  # type: ignore[arg-type]
    assert isinstance(Deployment.model_validate({"price": {"type": "unknown"}}).price, UnknownPrice)
    assert isinstance(
        Deployment.model_validate({"price": {"type": "catalog", "model": "o3"}}).price, CatalogPrice
    )


def test_type_may_be_left_out_for_a_per_token_price() -> None:
    parsed = Deployment.model_validate({"price": {"input_per_mtok": 0.4, "output_per_mtok": 1.6}})
    assert parsed.price == PerTokenPrice(input_per_mtok=Decimal("0.4"), output_per_mtok=Decimal("1.6"))


@pytest.mark.parametrize(
    ("price", "path", "message"),
    [
        (
            {
                "type": "gpu_hour",
                "gpu_type": "A10G",
                "gpu_count": 1,
                "usd_per_gpu_hour": 1,
                "throughput_tokens_per_s": 100,
                "utilisation": 1.5,
            },
            ("price", "gpu_hour", "utilisation"),
            "less than",
        ),
        (
            {
                "type": "gpu_hour",
                "gpu_type": "A10G",
                "gpu_count": 1,
                "usd_per_gpu_hour": 1,
                "throughput_tokens_per_s": 100,
                "utilisation": 0.5,
                "billing": "spot",
            },
            ("price", "gpu_hour", "billing"),
            "",
        ),
        (
            {"input_per_mtok": -1, "output_per_mtok": 1},
            ("price", "per_token", "input_per_mtok"),
            "greater than",
        ),
        ({"input_per_mtok": 1, "output_per_mtok": 1, "output": 2}, ("price", "per_token", "output"), "Extra"),
        ({"type": "free"}, ("price",), "price type must be one of"),
    ],
)
def test_bad_prices_are_refused_with_their_path(price: dict, path: tuple, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Deployment.model_validate({"price": price})
    [error] = caught.value.errors()
    assert error["loc"] == path
    assert message in error["msg"]


def test_the_gpu_hour_example_in_the_economics_doc() -> None:
    price = GpuHourPrice(
        gpu_type="H100",
        gpu_count=8,
        usd_per_gpu_hour=Decimal("2.50"),
        throughput_tokens_per_s=Decimal(5000),
        utilisation=Decimal("0.4"),
    )
    assert price.usd_per_hour == Decimal(20)
    assert price.usd_per_mtok.quantize(Decimal("0.01")) == Decimal("2.78")


def test_catalog_prices_resolve_to_the_catalog_entry() -> None:
    catalog = load_catalog()
    resolved = resolve_price(CatalogPrice(model="gpt-4.1-mini"), catalog)
    assert resolved == PerTokenPrice(
        input_per_mtok=Decimal("0.40"), cached_input_per_mtok=Decimal("0.10"), output_per_mtok=Decimal("1.60")
    )
    gpu = GpuHourPrice(
        gpu_type="L4",
        gpu_count=1,
        usd_per_gpu_hour=Decimal(1),
        throughput_tokens_per_s=Decimal(100),
        utilisation=Decimal(1),
    )
    assert resolve_price(gpu, catalog) is gpu
    with pytest.raises(PriceCatalogError, match="no catalog price for model 'gpt-9'"):
        resolve_price(CatalogPrice(model="gpt-9"), catalog)
