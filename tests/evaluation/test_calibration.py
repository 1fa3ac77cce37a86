"""Calibration: the policy per task (one model, a mix, or the strongest), paired lower bounds, measured costs."""

from __future__ import annotations

import numpy as np
import pytest

from interlock.evaluation import ItemResult, Results, ResultsHeader, calibrate
from interlock.evaluation.outcomes import OutcomeError
from interlock.evaluation.quality_floor import floor_slack_upper
from interlock.routing.policy_file import load_policy

COST = {"frontier": 0.010, "mid": 0.002, "small": 0.0005}


def outcomes(quality: dict[str, dict[str, float]], n: int = 300, seed: int = 0,
             cost: dict[str, float] = COST) -> Results:
    """Binary scores drawn per item; a weaker model's correct items are mostly a subset of the frontier's."""
    rng = np.random.default_rng(seed)
    items = []
    for task in next(iter(quality.values())):
        u = rng.random(n)  # item difficulty, shared by the models: scores are paired, as on real suites
        for model, by_task in quality.items():
            for i in range(n):
                items.append(ItemResult(item_id=f"{task}-{i}", model=model, category=task,
                                        score=float(u[i] < by_task[task]), cost_usd=cost[model]))
    return Results(header=ResultsHeader(suite="synthetic", models=list(quality)), items=items)


THREE = {
    "frontier": {"classification": 0.9, "extraction": 0.9, "code": 0.8},
    "mid": {"classification": 0.9, "extraction": 0.7, "code": 0.8},
    "small": {"classification": 0.9, "extraction": 0.5, "code": 0.2},
}


def test_parity_goes_to_the_cheapest_model_alone() -> None:
    policy = calibrate(outcomes(THREE), target=0.95).policy
    assert policy.settings.baseline == "frontier"
    route = policy.tasks["classification"]
    assert (route.rule, [(s.model, s.share) for s in route.models]) == ("single", [("small", 1.0)])
    assert policy.tasks["code"].models[0].model == "mid"  # mid matches the frontier on code; small does not


def test_a_mix_meets_the_floor_exactly_at_the_stated_risk() -> None:
    results = outcomes(THREE, n=600)
    policy = calibrate(results, target=0.9, risk=0.05).policy
    route = policy.tasks["extraction"]
    assert route.rule == "mix"
    shares = {s.model: s.share for s in route.models}
    cheap = next(m for m in shares if m != "frontier")
    assert 0 < shares[cheap] < 1 and shares["frontier"] == pytest.approx(1 - shares[cheap])
    # The share is the largest the paired upper bound allows: a tenth of a point more breaks the floor.
    scores = {m: np.array([r.score for r in results.items if r.model == m and r.category == "extraction"])
              for m in ("frontier", cheap)}
    holds = floor_slack_upper(np.array([[shares[cheap]] * 600, [shares[cheap] + 0.002] * 600]),
                              scores[cheap], scores["frontier"], 0.9, 0.05)
    assert holds[0] <= 0 < holds[1]
    assert route.quality.value >= route.floor  # the promise, with room for sampling error
    assert route.floor == pytest.approx(0.9 * route.baseline_quality)


def test_a_model_just_below_the_floor_still_takes_most_traffic() -> None:
    """0.94 of the frontier at a 0.95 floor: the old point-estimate cut sent everything to the frontier."""
    two = {"frontier": {"qa": 0.80}, "open": {"qa": 0.752}}
    policy = calibrate(outcomes(two, n=3000, cost={"frontier": 0.01, "open": 0.001}), target=0.95).policy
    route = policy.tasks["qa"]
    assert route.rule == "mix" and route.models[0].model == "open" and route.models[0].share > 0.5


def test_the_floor_changes_the_policy() -> None:
    results = outcomes(THREE, n=600)
    strict, loose = (calibrate(results, target=t).policy for t in (0.98, 0.8))
    assert loose.expected.savings_fraction > strict.expected.savings_fraction
    assert strict.tasks["extraction"].models != loose.tasks["extraction"].models


def test_a_small_task_goes_to_the_strongest_model_and_says_so() -> None:
    items = [ItemResult(item_id=f"rare-{i}", model=m, category="rare", score=0.0, cost_usd=COST[m])
             for i in range(2) for m in ("frontier", "small")]
    results = outcomes({"frontier": {"bulk": 0.9}, "small": {"bulk": 0.9}})
    results = Results(header=results.header, items=results.items + items)
    policy = calibrate(results, target=0.95, min_items=30).policy
    rare = policy.tasks["rare"]
    assert rare.rule == "strongest_small_sample" and rare.models[0].model == "frontier"
    assert "only 2 paired item(s), fewer than min_items=30" in rare.reason
    assert policy.tasks["bulk"].models[0].model == "small"


def test_ranking_uses_the_measured_cost_per_request() -> None:
    """`mid` is measured cheaper per request than `small` here (e.g. shorter answers): it wins."""
    equal = {"frontier": {"t": 0.9}, "mid": {"t": 0.9}, "small": {"t": 0.9}}
    policy = calibrate(outcomes(equal, cost={"frontier": 0.01, "mid": 0.0004, "small": 0.0009}), target=0.95).policy
    assert policy.tasks["t"].models[0].model == "mid"
    assert policy.tasks["t"].measured["mid"].cost_per_request_usd == pytest.approx(0.0004)


def test_policy_file_round_trip_and_promise(tmp_path) -> None:
    path = tmp_path / "policy.yaml"
    calibration = calibrate(outcomes(THREE), target=0.95, mix={"extraction": 3, "classification": 1})
    calibration.write(path)
    loaded = load_policy(path)
    assert loaded.policy == calibration.policy and len(loaded.sha256) == 64
    assert loaded.policy.traffic == {"extraction": 0.75, "classification": 0.25}
    e = loaded.policy.expected
    assert e.quality_share.low <= e.quality_share.value <= e.quality_share.high
    assert e.savings_fraction == pytest.approx(1 - e.cost_per_1k_usd / e.baseline_cost_per_1k_usd, abs=1e-5)


def test_bad_input_names_the_row() -> None:
    results = outcomes(THREE, n=40)
    no_cost = results.items[5].model_copy(update={"cost_usd": None})
    with pytest.raises(OutcomeError, match=r"row 7 \(item 'classification-5', model 'frontier'\): no cost_usd"):
        calibrate(Results(header=results.header, items=[*results.items[:5], no_cost, *results.items[6:]]))
    stranger = results.items[0].model_copy(update={"model": "gpt-9"})
    with pytest.raises(OutcomeError, match=r"row 2 .* model 'gpt-9' is not in the results header"):
        calibrate(Results(header=results.header, items=[stranger, *results.items[1:]]))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"target": 1.5}, "target"), ({"risk": 0.7}, "risk"), ({"baseline": "nope"}, "baseline"),
    ({"uncovered": "nope"}, "uncovered"), ({"mix": {"translation": 1}}, "no weight"),
])
def test_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        calibrate(outcomes(THREE, n=40), **kwargs)
