"""Executing a calibrated routing policy for one request: exactly the promised split, then safe fallbacks.

For the request's task the policy names one model, a traffic mix (drawn with the injected random
source) or a per-prompt router (score >= threshold -> the cheaper model). The pick goes first; if
the screens (compliance, context, capabilities, health, route limits) rule it out, or as fallbacks
after it, the other eligible models follow strongest first by the task's measured quality. A task
the policy has no data for follows ``settings.uncovered``: the strongest eligible model overall
(default) or the named model; the decision says so (``rule="uncovered"``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from interlock.catalog.catalog import CatalogModel
from interlock.routing.decision import Decision, Verdict
from interlock.routing.features import Features
from interlock.routing.policy import CostOf, DeploymentFilter, nothing_can_serve, screen
from interlock.routing.policy_file import STRONGEST, LoadedPolicy, RoutingPolicy, TaskRoute
from interlock.routing.settings import RouteSettings


class PromptScorer(Protocol):
    """A per-prompt router: the probability that the cheaper model is good enough for this prompt."""

    def score(self, text: str) -> float: ...


def overall_quality(policy: RoutingPolicy) -> dict[str, float]:
    """Each model's measured quality over the policy's tasks, weighted by the traffic mix."""
    totals: dict[str, list[float]] = {}
    for task, route in policy.tasks.items():
        weight = policy.traffic.get(task, 0.0) or 1e-9
        for model, m in route.measured.items():
            acc = totals.setdefault(model, [0.0, 0.0])
            acc[0] += weight * m.quality
            acc[1] += weight
    return {m: q / w for m, (q, w) in totals.items()}


def _pick(route: TaskRoute, draw: Callable[[], float], scorers: Mapping[str, PromptScorer],
          text: Callable[[], str]) -> tuple[str, dict[str, float | str]]:
    """The model the route sends this request to, and what decided it."""
    if route.prompt_router is not None:
        rule = route.prompt_router
        score = scorers[rule.path].score(text())
        return (rule.cheap if score >= rule.threshold else rule.strong), {"score": round(score, 4),
                                                                            "threshold": rule.threshold}
    if len(route.models) == 1:
        return route.models[0].model, {}
    u, acc = draw(), 0.0
    for share in route.models:
        acc += share.share
        if u < acc:
            return share.model, {"draw": round(u, 4)}
    return route.models[-1].model, {"draw": round(u, 4)}


def decide_by_policy(
    route: RouteSettings,
    features: Features,
    models: Sequence[CatalogModel],
    loaded: LoadedPolicy,
    cost_of: CostOf,
    *,
    draw: Callable[[], float],
    scorers: Mapping[str, PromptScorer],
    text: Callable[[], str],
    deployment_filter: DeploymentFilter | None = None,
) -> Decision:
    policy = loaded.policy
    task = policy.tasks.get(features.category)
    verdicts = [screen(m, route, features, deployment_filter) for m in models]
    for m, v in zip(models, verdicts):
        measured = task.measured.get(m.name) if task else None
        if measured is not None:  # the cost per request the evaluation measured, else list price
            v.estimated_cost_usd, v.quality = measured.cost_per_request_usd, measured.quality
        else:
            cost = cost_of(v.deployments[0] if v.deployments else m.primary, features.prompt_tokens,
                           features.output_tokens)
            v.estimated_cost_usd = None if cost is None else round(float(cost), 8)
        v.expected_quality = v.quality
    kept = {v.model: v for v in verdicts if v.kept}
    if not kept:
        raise nothing_can_serve(features, verdicts)
    info: dict[str, float | str] = {}
    if task is not None:
        order = list(task.ranking)
        picked, info = _pick(task, draw, scorers, text)
        rule = "policy"
    else:
        strength = overall_quality(policy)
        order = sorted(strength, key=lambda m: -strength[m])
        picked = policy.settings.uncovered if policy.settings.uncovered != STRONGEST else order[0] if order else ""
        rule = "uncovered"
    order += sorted((n for n in kept if n not in order), key=lambda n: kept[n].estimated_cost_usd or 0.0)
    ranked = [kept[n] for n in dict.fromkeys([picked, *order]) if n in kept]
    first = ranked[0]
    first.reason = "chosen by the policy" if first.model == picked else f"{picked} cannot serve; strongest eligible"
    for v in ranked[1:]:
        v.reason = "fallback (strongest first)"
    reason = _explain(features.category, task, picked, first, policy.settings.uncovered, kept)
    baseline = policy.settings.baseline
    base_cost = task.baseline_cost_per_request_usd if task else next(
        (v.estimated_cost_usd for v in verdicts if v.model == baseline), None)
    return Decision(
        route=route.name, features=features, ranked=ranked, verdicts=verdicts, reason=reason,
        required_quality=task.floor if task else None, baseline_model=baseline, baseline_cost_usd=base_cost,
        rule=rule, policy={"version": policy.version, "sha256": loaded.sha256[:16], "task": features.category,
                           "task_rule": task.rule if task else policy.settings.uncovered, "picked": picked, **info},
    )


def _explain(category: str, task: TaskRoute | None, picked: str, first: Verdict, uncovered: str,
             kept: Mapping[str, Verdict]) -> str:
    if task is None:
        why = (f"task {category} has no data in the routing policy: rule uncovered={uncovered} -> {picked}")
    else:
        split = " + ".join(f"{s.model} {s.share:.1%}" for s in task.models)
        why = f"task {category}: policy {task.rule} ({split}; floor {task.floor:.3f}) -> {picked}"
    if first.model != picked:
        why += f"; {picked} cannot serve this request, so {first.model} (strongest eligible)"
    return why + f"; {len(kept) - 1} fallback(s)"
