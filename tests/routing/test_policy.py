"""The routing policy: cheapest adequate model, drops with reasons, error cost and difficulty effects."""

from __future__ import annotations

import pytest

from interlock.catalog import Catalog
from interlock.config.schema import GatewayConfig
from interlock.errors import InvalidRequest, UnsupportedParameter
from interlock.routing.features import Features
from interlock.accounting.pricebook import PriceBook
from interlock.routing.policy import decide
from interlock.routing.quality import QualityTable, load_quality_table
from interlock.routing.settings import RouteSettings


def _dep(model: str, *, open_weight: bool, price: tuple[float, float] | None, ctx: int = 32000, tools: bool = True) -> dict:
    d = {"name": f"{model}-d", "type": "openai", "model": model, "vendor": "v", "open_weight": open_weight,
         "perimeter": "internal" if open_weight else "external", "context_window": ctx,
         "base_url": "http://127.0.0.1:1/v1", "capabilities": {"tools": tools, "json_output": True}}
    d["price"] = {"input_per_mtok": price[0], "output_per_mtok": price[1]} if price else {"type": "unknown"}
    return d


CONFIG = GatewayConfig.model_validate({"deployments": [
    _dep("small-open", open_weight=True, price=(0.03, 0.06), ctx=2048, tools=False),
    _dep("big-open", open_weight=True, price=(0.12, 0.40)),
    _dep("frontier", open_weight=False, price=(2.0, 8.0)),
]})
PRICES = PriceBook(CONFIG)


def cost_of(d, prompt: int, output: int):
    return PRICES.max_cost(d.name, prompt, output)


@pytest.fixture()
def catalog() -> Catalog:
    return Catalog(CONFIG)


TABLE = QualityTable.model_validate({"families": [
    {"pattern": "small-open", "quality": {"extraction": 0.86, "multi_step_reasoning": 0.30}},
    {"pattern": "big-open", "quality": {"extraction": 0.93, "multi_step_reasoning": 0.74}},
    {"pattern": "frontier", "quality": {"extraction": 0.95, "multi_step_reasoning": 0.90}},
]})


def _f(category: str, difficulty: float = 0.2, tokens: int = 300, needs: tuple[str, ...] = ()) -> Features:
    return Features(category=category, confidence=0.9, difficulty=difficulty, prompt_tokens=tokens,
                    output_tokens=200, needs=needs)


def _decide(catalog: Catalog, features: Features, **route: object):
    r = RouteSettings(name="r", **route)
    fractions = {"low": 0.85, "medium": 0.93, "high": 0.98}
    return decide(r, features, list(catalog.models.values()), TABLE, fractions[r.error_cost], cost_of)


def test_cheapest_adequate_model_wins_and_reason_explains(catalog: Catalog) -> None:
    d = _decide(catalog, _f("extraction"), error_cost="low")
    assert d.chosen.model == "small-open"
    assert [v.model for v in d.ranked] == ["small-open", "big-open", "frontier"]
    assert "cheapest of 3 qualifying" in d.reason
    assert d.baseline_model == "frontier" and d.baseline_cost_usd > d.chosen.estimated_cost_usd


def test_error_cost_high_picks_a_stronger_model(catalog: Catalog) -> None:
    picks = [_decide(catalog, _f("extraction"), error_cost=c).chosen.model for c in ("low", "medium", "high")]
    assert picks == ["small-open", "big-open", "frontier"]


def test_reasoning_goes_to_frontier_and_difficulty_is_not_a_decision_rule(catalog: Catalog) -> None:
    assert _decide(catalog, _f("multi_step_reasoning", 0.8)).chosen.model == "frontier"
    # The old `quality ** (1 + difficulty)` rule is gone: on public outcomes the difficulty score ranked
    # prompts no better than chance (APGR 0.46 / 0.55), so only the category's prior decides.
    easy = _decide(catalog, _f("extraction", 0.0), error_cost="low")
    hard = _decide(catalog, _f("extraction", 1.0), error_cost="low")
    assert easy.chosen.model == hard.chosen.model == "small-open"
    assert easy.rule == "priors" and "difficulty" not in easy.reason


def test_context_window_and_capabilities_drop_with_reasons(catalog: Catalog) -> None:
    d = _decide(catalog, _f("extraction", tokens=5000), error_cost="low")
    small = next(v for v in d.verdicts if v.model == "small-open")
    assert not small.kept and "context window 2048" in small.reason
    assert d.chosen.model == "big-open"
    d = _decide(catalog, _f("extraction", needs=("tools",)), error_cost="low")
    assert d.chosen.model == "big-open"
    assert "no tool calling" in next(v for v in d.verdicts if v.model == "small-open").reason


def test_route_questions_restrict_candidates(catalog: Catalog) -> None:
    assert _decide(catalog, _f("extraction"), error_cost="low", needs_frontier_reasoning=True).chosen.model == "frontier"
    assert _decide(catalog, _f("extraction"), error_cost="low", allow_self_hosted=False).chosen.model == "frontier"


def test_nothing_can_serve_is_a_clear_error(catalog: Catalog) -> None:
    with pytest.raises(InvalidRequest) as exc:
        _decide(catalog, _f("extraction", tokens=10**6))
    assert exc.value.code == "context_length_exceeded"
    with pytest.raises(UnsupportedParameter) as exc:
        decide(RouteSettings(name="r", candidates=["small-open"]), _f("extraction", needs=("tools",)),
               [catalog.models["small-open"]], TABLE, 0.93, cost_of)
    assert exc.value.param == "tools"


def test_shipped_quality_table_loads_and_covers_embedded_model() -> None:
    table = load_quality_table()
    assert table.lookup("smollm2-135m-instruct", "extraction") is not None
    assert table.lookup("gpt-4.1", "multi_step_reasoning") > table.lookup("qwen2.5-72b-instruct", "multi_step_reasoning")
    assert table.lookup("unknown-model", "code") is None
