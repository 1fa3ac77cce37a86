"""Promise against delivery: calibrate on one half of public outcomes, replay the other half through the router."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from interlock.cli.calibrate_cmd import train_task_classifier
from interlock.evaluation import Results, calibrate
from interlock.evaluation.simulation import replay_config, simulate
from interlock.routing.router import Router

SAMPLE = Path(__file__).parents[1] / "data" / "routellm" / "sample.jsonl.gz"


@pytest.fixture(scope="module")
def halves() -> tuple[Results, Results]:
    results = Results.read_jsonl(SAMPLE)
    ids = sorted({r.item_id for r in results.items})
    random.Random(1).shuffle(ids)
    held_out = set(ids[: len(ids) // 2])
    pick = lambda keep: Results(header=results.header, items=[r for r in results.items if keep(r.item_id)])  # noqa: E731
    return pick(lambda i: i not in held_out), pick(lambda i: i in held_out)


@pytest.fixture(scope="module")
def policy_file(halves: tuple[Results, Results], tmp_path_factory: pytest.TempPathFactory) -> Path:
    train, _ = halves
    out = tmp_path_factory.mktemp("policy") / "policy.yaml"
    classifier, _report = train_task_classifier(train, out)
    calibrate(train, target=0.9, classifier=classifier, min_items=30).write(out)
    return out


def test_realized_quality_and_cost_match_the_promise_within_sampling_error(
    halves: tuple[Results, Results], policy_file: Path
) -> None:
    _, held_out = halves
    router = Router.from_config(replay_config(str(policy_file)))
    sim = simulate(held_out, router)
    assert sim.skipped == 0 and sim.overall.items == len({r.item_id for r in held_out.items})
    promised_quality, promised_cost = sim.promised_overall()
    # The promise was estimated on the other half: allow both halves' sampling error (3 sigma).
    assert abs(sim.overall.quality_share - promised_quality) <= 3 * 2 ** 0.5 * sim.overall.quality_share_error
    assert abs(sim.overall.cost_share - promised_cost) <= 3 * 2 ** 0.5 * sim.overall.cost_share_error
    # It is a real saving, at 90% of GPT-4's quality: Mixtral takes a real share of the traffic.
    assert promised_cost < 0.9 and sim.overall.picks["mixtral-8x7b-instruct"] > 0.1 * sim.overall.items
    assert sim.overall.quality_share >= 0.9 - 3 * sim.overall.quality_share_error


def test_the_suite_tasks_are_the_categories(halves: tuple[Results, Results], policy_file: Path) -> None:
    router = Router.from_config(replay_config(str(policy_file)))
    assert router.policy is not None and router.policy.policy.classifier is not None
    decision = router.route("Natalia sold clips to 48 of her friends in April, and then she sold half as many "
                            "clips in May. How many clips did Natalia sell altogether in April and May?")
    assert decision.features is not None and decision.features.category == "gsm8k"
    assert decision.rule == "policy" and decision.policy is not None and decision.policy["task"] == "gsm8k"
    assert router.policy.policy.classifier.heldout_accuracy > 0.6  # six tasks, four of them MMLU subjects
