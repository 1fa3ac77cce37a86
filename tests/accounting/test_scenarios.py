"""Projected monthly cost of a traffic mix reproduces hand-computed figures."""

from __future__ import annotations

from decimal import Decimal

import pytest

from interlock.accounting.catalog import load_catalog
from interlock.accounting.pricing import GpuHourPrice, UnknownPrice
from interlock.accounting.scenarios import CallShape, project_all_on, project_scenario

D = Decimal
MIX = [
    CallShape("chat", D("0.7"), prompt_tokens=1000, completion_tokens=200),
    CallShape("extraction", D("0.2"), prompt_tokens=2500, completion_tokens=150),
    CallShape("reasoning", D("0.1"), prompt_tokens=2000, completion_tokens=800),
]
# 8 x H100 at $2.50/h = $20/h; 5,000 tok/s at 40% utilisation = 7.2M tokens/h -> $20 / 7.2 per Mtok.
OPEN = GpuHourPrice(
    gpu_type="H100-80GB",
    gpu_count=8,
    usd_per_gpu_hour=D("2.50"),
    billing="on_demand",
    throughput_tokens_per_s=D(5000),
    throughput_source="measured",
    utilisation=D("0.4"),
)
CALLS = 5_000_000


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(D("0.01"))


def test_five_million_calls_on_the_frontier_model() -> None:
    opus = load_catalog().require("claude-opus-4-1").price  # $15 in, $75 out per Mtok
    frontier = project_all_on("all frontier", CALLS, MIX, opus)
    # per call: 0.7*$0.03 + 0.2*$0.04875 + 0.1*$0.09 = $0.03975
    assert frontier.monthly_cost_usd == D("198750")
    assert [line.cost_per_call_usd for line in frontier.lines] == [D("0.03"), D("0.04875"), D("0.09")]


def test_five_million_calls_on_open_models() -> None:
    open_only = project_all_on("all open", CALLS, MIX, OPEN)
    # 1,650 tokens per call on average -> 8,250 Mtok a month at $20/7.2 per Mtok
    assert cents(open_only.monthly_cost_usd) == cents(D(8250) * 20 / D("7.2")) == D("22916.67")


def test_routed_mix_sends_only_reasoning_to_the_frontier() -> None:
    opus = load_catalog().require("claude-opus-4-1").price
    routed = project_scenario("routed", CALLS, MIX, lambda s: opus if s.name == "reasoning" else OPEN)
    # open: (0.7*1200 + 0.2*2650) tokens * 5M = 6,850 Mtok; frontier: 0.1 * 5M * $0.09 = $45,000
    assert cents(routed.monthly_cost_usd) == D("64027.78")


def test_unpriced_shapes_are_reported_not_counted_as_free() -> None:
    routed = project_scenario("routed", CALLS, MIX, lambda s: UnknownPrice() if s.name == "chat" else OPEN)
    assert routed.unpriced_calls == D(3_500_000)
    assert routed.lines[0].monthly_cost_usd is None


def test_shares_must_add_up_to_one() -> None:
    with pytest.raises(ValueError, match=r"add up to 1, not 0\.9"):
        project_all_on("x", CALLS, MIX[:2], OPEN)
