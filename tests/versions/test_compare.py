"""Summaries of shadow results: agreement (exact and scored), latency percentiles, cost per side."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from interlock.versions.compare import percentile, registry_scorer, summarise
from interlock.versions.results import ShadowResult, SideOutcome

TS = datetime(2026, 5, 1, tzinfo=UTC)


def pair(
    primary: str, shadow: str | None, p_ms: int, s_ms: int, s_cost: Decimal | None = None
) -> ShadowResult:
    shadow_side = (
        SideOutcome("cand", "c", shadow, s_ms, 5, 5, s_cost)
        if shadow is not None
        else SideOutcome.failed("cand", "c", "timed out after 1s", s_ms / 1000)
    )
    return ShadowResult(
        "a", "r", TS, SideOutcome("prim", "p", primary, p_ms, 5, 5, Decimal("0.002")), shadow_side
    )


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50 and percentile(values, 95) == 95 and percentile(values, 100) == 100
    assert percentile([7.0], 95) == 7.0 and percentile([], 50) is None


def test_summary_counts_agreement_latency_and_cost() -> None:
    results = [
        pair("The answer is 42.", "the answer   is 42.", 100, 300, Decimal("0.001")),
        pair("Refund approved", "Refund denied", 120, 320, None),
        pair("yes", "YES", 140, 340, Decimal("0.003")),
        pair("no", None, 160, 1000),
    ]
    s = summarise("a", results)
    assert (s.count, s.compared) == (4, 3)
    assert s.exact_agreement == pytest.approx(
        2 / 3
    )  # case and whitespace folded; the failed pair not compared
    assert s.scored_agreement is None
    assert (s.primary.answered, s.primary.errors, s.shadow.answered, s.shadow.errors) == (4, 0, 3, 1)
    assert (s.primary.latency_p50_ms, s.primary.latency_p95_ms) == (120, 160)
    assert (s.shadow.latency_p50_ms, s.shadow.latency_p95_ms) == (320, 340)  # failures have no answer latency
    assert s.primary.total_cost_usd == Decimal("0.008") and s.primary.mean_cost_usd == Decimal("0.002")
    assert s.shadow.priced == 2 and s.shadow.total_cost_usd == Decimal("0.004")
    assert s.shadow.mean_cost_usd == Decimal("0.002")
    as_dict = s.to_dict()
    assert as_dict["shadow"]["total_cost_usd"] == "0.004" and as_dict["primary"]["models"] == ["prim"]


def test_unpriced_sides_report_none_not_zero() -> None:
    s = summarise("a", [pair("x", "x", 1, 1, None)])
    assert s.shadow.total_cost_usd is None and s.shadow.mean_cost_usd is None and s.shadow.priced == 0
    assert s.exact_agreement == 1.0


def test_scored_agreement_takes_any_pair_scorer() -> None:
    results = [pair("a b c d", "a b c d", 1, 1), pair("a b c d", "a b x y", 1, 1)]
    s = summarise("a", results, scorer=lambda ref, cand: len(set(ref.split()) & set(cand.split())) / 4)
    assert s.scored_agreement == pytest.approx(0.75)
    rouge = summarise("a", results, scorer=registry_scorer("rouge_l"))
    assert rouge.scored_agreement == pytest.approx(0.75)  # F1 of the LCS: 1.0 and 0.5
    with pytest.raises(KeyError, match="unknown scorer"):
        registry_scorer("no-such-scorer")
