import pytest
import yaml

from interlock.evaluation import ItemResult, Results, ResultsHeader, calibrate


def hand_made_results():
    """Three models, three categories, ten items each; costs per request in USD."""
    quality = {
        "frontier": {"classification": 0.9, "extraction": 0.9, "code": 0.8},
        "mid": {"classification": 0.9, "extraction": 0.7, "code": 0.8},
        "small": {"classification": 0.9, "extraction": 0.5, "code": 0.2},
    }
    cost = {"frontier": 0.010, "mid": 0.002, "small": 0.0005}
    items = [
        ItemResult(
            item_id=f"{category}-{i}",
            model=model,
            category=category,
            score=1.0 if i < round(q * 10) else 0.0,
            cost_usd=cost[model],
            latency_ms=100.0,
        )
        for model, by_category in quality.items()
        for category, q in by_category.items()
        for i in range(10)
    ]
    return Results(header=ResultsHeader(suite="hand", models=list(quality)), items=items)


def test_calibration_table_routes_and_savings():
    calibration = calibrate(hand_made_results(), target=0.95, open_models={"mid", "small"})
    assert {c: r.model for c, r in calibration.routes.items()} == {
        "classification": "small",
        "extraction": "frontier",
        "code": "mid",
    }
    assert calibration.quality["small"] == {"extraction": 0.5, "classification": 0.9, "code": 0.2}
    # equal mix: routed (0.5 + 10 + 2) / 3 vs baseline (10 + 10 + 10) / 3 per 1,000 requests
    assert calibration.expected_cost_per_1k_usd == pytest.approx(12.5 / 3)
    assert calibration.baseline_cost_per_1k_usd == pytest.approx(10.0)
    assert calibration.savings_fraction == pytest.approx(1 - 12.5 / 30)
    assert calibration.quality_fraction == pytest.approx(1.0)
    assert calibration.open_share == pytest.approx(2 / 3)
    assert calibration.monthly_savings_usd(1_000_000) == pytest.approx((10.0 - 12.5 / 3) * 1000)


def test_lower_target_and_traffic_mix():
    calibration = calibrate(hand_made_results(), target=0.75, mix={"extraction": 3, "classification": 1})
    assert calibration.routes["extraction"].model == "mid"  # 0.7 >= 0.75 * 0.9
    assert calibration.mix == {"extraction": 0.75, "classification": 0.25}
    assert calibration.expected_cost_per_1k_usd == pytest.approx(0.75 * 2.0 + 0.25 * 0.5)
    assert calibration.quality_fraction == pytest.approx(
        (0.75 * 0.7 + 0.25 * 0.9) / (0.75 * 0.9 + 0.25 * 0.9)
    )


def test_named_baseline():
    calibration = calibrate(hand_made_results(), target=0.95, baseline="mid")
    assert calibration.routes["code"].baseline_model == "mid"
    assert calibration.baseline_cost_per_1k_usd == pytest.approx(2.0)


def test_policy_yaml(tmp_path):
    path = tmp_path / "policy.yaml"
    calibrate(hand_made_results(), target=0.95).write(path)
    policy = yaml.safe_load(path.read_text())
    assert policy["kind"] == "interlock.quality_table" and policy["target"] == 0.95
    assert policy["quality"]["mid"]["extraction"] == 0.7
    assert policy["routes"]["classification"] == "small"
    assert policy["expected"]["savings_fraction"] == pytest.approx(1 - 12.5 / 30, abs=1e-6)


def test_bad_arguments():
    with pytest.raises(ValueError, match="target"):
        calibrate(hand_made_results(), target=1.5)
    with pytest.raises(ValueError, match="baseline"):
        calibrate(hand_made_results(), baseline="nope")
    with pytest.raises(ValueError, match="no weight"):
        calibrate(hand_made_results(), mix={"translation": 1})
