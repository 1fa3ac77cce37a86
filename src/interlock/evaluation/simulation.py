"""Replaying evaluation results through the gateway's router: what a policy delivers next to what it promised.

Each item's prompt goes through ``Router.decide`` exactly as a live ``model: "auto"`` request would
(classification, the policy's split, screens); the model it picks is credited with the score and
the cost that model measured on that item. Realized quality and cost are set against the baseline
model's on the same items, per task (the item's true label) and over all items.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from pathlib import Path

from interlock.config.load import LoadedConfig, config_from_object
from interlock.config.schema import GatewayConfig
from interlock.evaluation.results import Results
from interlock.routing.policy_file import RoutingPolicy
from interlock.routing.router import Router
from interlock.routing.settings import AUTO_ROUTE


def _ratio_error(values: list[float], base: list[float]) -> float:
    """Standard error of sum(values) / sum(base) over items (delta method)."""
    v, b = np.asarray(values), np.asarray(base)
    if v.size < 2 or not b.sum():
        return float("inf")
    ratio = v.sum() / b.sum()
    return float((v - ratio * b).std(ddof=1) / np.sqrt(v.size) / b.mean())


@dataclass
class Tally:
    """Per item: the picked model's score and cost, and the baseline's on the same item."""

    scores: list[float] = field(default_factory=list)
    costs: list[float] = field(default_factory=list)
    base_scores: list[float] = field(default_factory=list)
    base_costs: list[float] = field(default_factory=list)
    picks: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    misrouted: int = 0  # items the classifier put in another task

    @property
    def items(self) -> int:
        return len(self.scores)

    @property
    def quality_share(self) -> float:
        base = sum(self.base_scores)
        return sum(self.scores) / base if base else 1.0

    @property
    def cost_share(self) -> float:
        base = sum(self.base_costs)
        return sum(self.costs) / base if base else 1.0

    @property
    def quality_share_error(self) -> float:
        return _ratio_error(self.scores, self.base_scores)

    @property
    def cost_share_error(self) -> float:
        return _ratio_error(self.costs, self.base_costs)

    def add(self, score: float, cost: float, base_score: float, base_cost: float, model: str) -> None:
        self.scores.append(score)
        self.costs.append(cost)
        self.base_scores.append(base_score)
        self.base_costs.append(base_cost)
        self.picks[model] += 1


@dataclass
class Simulation:
    policy: RoutingPolicy
    tasks: dict[str, Tally]
    overall: Tally
    skipped: int  # items without a prompt, or whose picked model has no scored answer for them

    def promised(self, task: str) -> tuple[float, float] | None:
        """(quality share, cost share) the policy promised for ``task``."""
        route = self.policy.tasks.get(task)
        if route is None:
            return None
        q = route.quality.value / route.baseline_quality if route.baseline_quality else 1.0
        c = route.cost_per_request_usd.value / route.baseline_cost_per_request_usd \
            if route.baseline_cost_per_request_usd else 1.0
        return q, c

    def promised_overall(self) -> tuple[float, float]:
        """The promise re-weighted by the replayed items' own task mix (so the two are comparable)."""
        weights = {t: tally.items for t, tally in self.tasks.items() if t in self.policy.tasks}
        routes = self.policy.tasks
        quality = sum(w * routes[t].quality.value for t, w in weights.items())
        base_quality = sum(w * routes[t].baseline_quality for t, w in weights.items())
        cost = sum(w * routes[t].cost_per_request_usd.value for t, w in weights.items())
        base_cost = sum(w * routes[t].baseline_cost_per_request_usd for t, w in weights.items())
        return (quality / base_quality if base_quality else 1.0, cost / base_cost if base_cost else 1.0)


def simulate(results: Results, router: Router, route: str = AUTO_ROUTE) -> Simulation:
    """Replay every item of ``results`` that carries its prompt through ``router``."""
    if router.policy is None:
        raise ValueError("the router has no routing policy (routing.policy) to simulate")
    policy = router.policy.policy
    baseline = policy.settings.baseline
    by_item: dict[str, dict[str, tuple[float, float]]] = defaultdict(dict)
    prompts: dict[str, tuple[str, list[dict[str, str]]]] = {}
    for row in results.items:
        if row.ok and row.cost_usd is not None:
            by_item[row.item_id][row.model] = (float(row.score or 0.0), row.cost_usd)
        if row.messages:
            prompts[row.item_id] = (row.category, row.messages)
    tasks: dict[str, Tally] = defaultdict(Tally)
    overall, skipped = Tally(), 0
    for item_id, (task, messages) in prompts.items():
        answers = by_item.get(item_id, {})
        decision = router.route(messages, route=route)
        model = decision.chosen.model
        if model not in answers or baseline not in answers:
            skipped += 1
            continue
        (score, cost), (base_score, base_cost) = answers[model], answers[baseline]
        for tally in (tasks[task], overall):
            tally.add(score, cost, base_score, base_cost, model)
        if decision.features is not None and decision.features.category != task:
            tasks[task].misrouted += 1
            overall.misrouted += 1
    return Simulation(policy, dict(tasks), overall, skipped)


def replay_config(policy_path: str) -> LoadedConfig:
    """A config serving exactly the policy's models, for replaying a policy without a gateway config.

    Each model gets one placeholder deployment that is never called (a replay only decides): in
    perimeter, every capability, a context window no prompt exceeds, prices unknown (the policy
    carries the measured costs).
    """
    from interlock.routing.policy_file import load_policy

    models = sorted(load_policy(policy_path).policy.models)
    deployments = [{
        "name": f"replay-{i}", "type": "openai", "model": model, "vendor": "replay", "perimeter": "internal",
        "base_url": "http://127.0.0.1:9/v1", "context_window": 10_000_000, "price": {"type": "unknown"},
        "capabilities": {"tools": True, "json_output": True, "images": True},
    } for i, model in enumerate(models)]
    config = GatewayConfig.model_validate({"deployments": deployments,
                                           "routing": {"policy": str(Path(policy_path).resolve()), "seed": 0}})
    return config_from_object(config, "<replay>")
