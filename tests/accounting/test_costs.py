"""Cost and baseline are exact for known token counts, cached input included."""

from __future__ import annotations

from decimal import Decimal

from interlock.accounting.costs import Tokens, cost_usd, format_usd, max_cost_usd, price_request
from interlock.accounting.pricing import GpuHourPrice, PerTokenPrice, UnknownPrice
from interlock.types import Usage

D = Decimal
GPT_41 = PerTokenPrice(input_per_mtok=D("2.00"), cached_input_per_mtok=D("0.50"), output_per_mtok=D("8.00"))
OPUS = PerTokenPrice(input_per_mtok=D("15"), cached_input_per_mtok=D("1.50"), output_per_mtok=D("75"))
H100S = GpuHourPrice(
    gpu_type="H100-80GB",
    gpu_count=2,
    usd_per_gpu_hour=D("2.50"),
    throughput_tokens_per_s=D("2500"),
    utilisation=D("0.5"),
)


def test_per_token_cost_charges_cached_prompt_tokens_at_the_cached_rate() -> None:
    usage = Usage(prompt_tokens=1200, completion_tokens=350, cached_tokens=1000)
    # 200 * $2 + 1000 * $0.50 + 350 * $8 per million
    assert cost_usd(usage, GPT_41) == D("0.0037")


def test_without_a_cached_price_cached_tokens_pay_the_input_price() -> None:
    price = PerTokenPrice(input_per_mtok=D("3"), output_per_mtok=D("15"))
    assert cost_usd(Tokens(1000, 100, 400), price) == D("0.0045")


def test_gpu_hour_cost_charges_every_token_at_the_derived_rate() -> None:
    # $5/h over 2500 tok/s * 3600 s * 0.5 = 4.5M tokens/h -> $1.111.../Mtok
    assert H100S.usd_per_mtok == D(5) * 1_000_000 / D(4_500_000)
    assert cost_usd(Tokens(3_000_000, 1_500_000, 2_000_000), H100S) == D(5)


def test_unknown_price_is_none_never_zero() -> None:
    assert cost_usd(Tokens(100, 100), UnknownPrice(reason="no hardware figures yet")) is None
    cost = price_request(Tokens(100, 100), UnknownPrice(), baseline=OPUS)
    assert cost.cost_usd is None and cost.savings_usd is None and not cost.priced
    assert cost.baseline_cost_usd == D("0.009")


def test_baseline_and_savings_for_the_same_tokens() -> None:
    usage = Usage(prompt_tokens=2000, completion_tokens=500, cached_tokens=1000)
    cost = price_request(usage, GPT_41, baseline=OPUS)
    assert cost.cost_usd == D("0.0065")  # 1000*2 + 1000*0.5 + 500*8
    assert cost.baseline_cost_usd == D("0.054")  # 1000*15 + 1000*1.5 + 500*75
    assert cost.savings_usd == D("0.0475")
    assert price_request(usage, GPT_41, baseline=None).baseline_cost_usd is None


def test_streamed_usage_from_the_final_chunk_costs_the_same_as_a_response() -> None:
    final_chunk = {
        "choices": [],
        "usage": {
            "prompt_tokens": 1200,
            "completion_tokens": 350,
            "total_tokens": 1550,
            "prompt_tokens_details": {"cached_tokens": 1000},
        },
    }
    streamed = Usage.from_openai(final_chunk["usage"])
    assert cost_usd(streamed, GPT_41) == cost_usd(Usage(1200, 350, 1000), GPT_41) == D("0.0037")


def test_max_cost_assumes_no_cache_hits_and_all_of_max_tokens() -> None:
    assert max_cost_usd(1000, 4000, GPT_41) == D("0.034")
    assert max_cost_usd(1000, 4000, UnknownPrice()) is None


def test_nonsense_counts_are_clamped_not_negative() -> None:
    assert cost_usd(Tokens(prompt_tokens=10, completion_tokens=-5, cached_tokens=50), GPT_41) == D("0.000005")


def test_format_usd_is_fixed_point_and_says_unknown() -> None:
    assert format_usd(D("0.0037")) == "0.00370000"
    assert format_usd(D("1E-9"), places=10) == "0.0000000010"
    assert format_usd(None) == "unknown"


def test_costs_keep_the_decimal_places_the_ledger_stores() -> None:
    # the digits as written, not only the value: the ledger stores and reports the text
    price = PerTokenPrice(input_per_mtok=D("0.10"), cached_input_per_mtok=D("0.025"),
                          output_per_mtok=D("0.4"))
    assert str(cost_usd(Tokens(prompt_tokens=2_000_000, completion_tokens=0), price)) == "0.200"
    assert str(cost_usd(Tokens(prompt_tokens=1_000_000, completion_tokens=0), GPT_41)) == "2.00"
    mixed = Tokens(prompt_tokens=30, completion_tokens=7, cached_tokens=10)
    assert str(cost_usd(mixed, price)) == "0.00000505"
    assert str(cost_usd(Tokens(prompt_tokens=-3, completion_tokens=-1, cached_tokens=-2), price)) == "0.000"
    assert str(cost_usd(Tokens(prompt_tokens=5, completion_tokens=0, cached_tokens=9), price)) == "1.25E-7"


def test_format_usd_rounds_half_even_at_any_number_of_places() -> None:
    assert format_usd(D("0.000000125")) == "0.00000012"
    assert format_usd(D("0.000000135")) == "0.00000014"
    assert format_usd(D("2.5"), places=0) == "2"
    assert format_usd(D("1.23456789012345678"), places=15) == "1.234567890123457"
    assert format_usd(D("1234"), places=-2) == "1200"
