"""Per-prompt routers in calibration: learned from outcomes, chosen when cheaper than a mix, executed live."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from interlock.cli.calibrate_cmd import train_task_classifier
from interlock.evaluation import ItemResult, Results, ResultsHeader, calibrate
from interlock.evaluation.prompt_routing import OutOfFoldRouterTrainer
from interlock.evaluation.simulation import replay_config, simulate
from interlock.routing.policy_file import load_policy
from interlock.routing.router import Router

EASY = ["Copy the invoice number from: Invoice INV-{i}.", "What is the total on receipt {i}? Total: ${i}.",
        "Return the vendor of order {i}: ACME Ltd."]
HARD = ["Reconcile invoices {i} and {j} against the ledger and explain every variance above tolerance.",
        "Given clauses {i} to {j}, argue whether the indemnity survives termination under both laws.",
        "Derive the amortisation schedule for loan {i} with a balloon payment in year {j} and justify it."]


def _results(n: int, seed: int, offset: int = 0) -> Results:
    """The cheap model is right on easy prompts and mostly wrong on hard ones; the frontier mostly right."""
    rng = np.random.default_rng(seed)
    items = []
    for k in range(n):
        i = offset + k
        hard = k % 2 == 1
        prompt = (HARD if hard else EASY)[k % 3].format(i=1000 + i, j=2000 + i)
        cheap_ok = rng.random() < (0.15 if hard else 0.97)
        strong_ok = rng.random() < 0.95
        for model, ok, cost in (("frontier", strong_ok, 0.01), ("open", cheap_ok, 0.0005)):
            items.append(ItemResult(item_id=f"t-{i}", model=model, category="finance_ops", score=float(ok),
                                    cost_usd=cost, messages=[{"role": "user", "content": prompt}]))
    return Results(header=ResultsHeader(suite="ops", models=["frontier", "open"]), items=items)


@pytest.fixture(scope="module")
def policy_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pr") / "policy.yaml"
    results = _results(600, seed=0)
    classifier, _ = train_task_classifier(results, out)  # one task: every live prompt is finance_ops
    calibrate(results, target=0.95, trainer=OutOfFoldRouterTrainer(out), classifier=classifier).write(out)
    return out


def test_a_router_that_knows_the_easy_prompts_beats_any_mix(policy_path: Path) -> None:
    loaded = load_policy(policy_path)
    route = loaded.policy.tasks["finance_ops"]
    assert route.rule == "prompt_router" and route.prompt_router is not None
    rule = route.prompt_router
    assert (rule.cheap, rule.strong) == ("open", "frontier") and 0.3 < rule.cheap_share < 0.7
    assert rule.metrics["apgr"] > 0.7  # the words give the difficulty away
    assert (policy_path.parent / rule.path).is_file() and len(rule.sha256) == 64
    # A mix could give the open model only a sliver at a 95% floor; the router gives it the easy half.
    assert route.cost_per_request_usd.value < 0.7 * route.baseline_cost_per_request_usd


def test_the_gateway_sends_easy_prompts_to_the_cheap_model_and_delivers_the_promise(policy_path: Path) -> None:
    router = Router.from_config(replay_config(str(policy_path)))
    easy = router.route(EASY[0].format(i=99999, j=0))
    hard = router.route(HARD[0].format(i=99999, j=88888))
    assert (easy.chosen.model, hard.chosen.model) == ("open", "frontier")
    assert easy.policy is not None and "score" in easy.policy and "threshold" in easy.policy
    sim = simulate(_results(600, seed=1, offset=10_000), router)
    promised_quality, promised_cost = sim.promised_overall()
    assert abs(sim.overall.quality_share - promised_quality) <= 3 * 2 ** 0.5 * sim.overall.quality_share_error
    assert abs(sim.overall.cost_share - promised_cost) <= 3 * 2 ** 0.5 * sim.overall.cost_share_error + 0.02
    assert sim.overall.quality_share >= 0.95 - 3 * sim.overall.quality_share_error


def test_a_tampered_router_file_is_refused_at_load(policy_path: Path, tmp_path: Path) -> None:
    from interlock.config.load import ConfigError

    copy = tmp_path / "policy.yaml"
    for artifact in policy_path.parent.glob("policy.*"):
        (tmp_path / artifact.name).write_bytes(artifact.read_bytes())
    rule = load_policy(copy).policy.tasks["finance_ops"].prompt_router
    assert rule is not None
    (tmp_path / rule.path).write_bytes((policy_path.parent / rule.path).read_bytes() + b"tampered")
    with pytest.raises(ConfigError, match="does not match its sha256"):
        Router.from_config(replay_config(str(copy)))
