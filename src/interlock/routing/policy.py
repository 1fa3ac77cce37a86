"""Routing without a calibrated policy (the shipped priors), and the screens every decision applies.

``screen`` drops what cannot serve a request (chat, context window, capabilities, compliance,
health, the route's own limits); both rules use it. The priors rule, documented in
docs/classifier.md: a model qualifies when the quality table's prior for the request's category
reaches the route's required share (``routing.error_cost_fractions[route.error_cost]``) of the best
candidate's prior; qualified models are ranked by estimated cost, ties by latency. Calibrate on
your own tasks (``routing.policy``) to replace it with measured, executed promises.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

from interlock.catalog.capabilities import CAPABILITY
from interlock.catalog.catalog import CatalogModel
from interlock.config.deployments import DeploymentBase
from interlock.errors import InvalidRequest, UnsupportedParameter
from interlock.routing.decision import Decision, Verdict
from interlock.routing.features import Features
from interlock.routing.quality import QualityTable
from interlock.routing.settings import RouteSettings

# Returns a reason when a deployment may not serve this request (compliance, health), else None.
DeploymentFilter = Callable[[DeploymentBase], str | None]
LatencyOf = Callable[[DeploymentBase], float]

# The most a request could cost on a deployment (USD), None when unpriced.
CostOf = Callable[[DeploymentBase, int, int], "Decimal | None"]


def _deployment_problem(d: DeploymentBase, f: Features, extra: DeploymentFilter | None) -> str | None:
    for need in f.needs:
        if not getattr(d.capabilities, need):
            return f"no {CAPABILITY[need].description}"
    if f.prompt_tokens + f.output_tokens > d.context_window:
        return f"context window {d.context_window} < {f.prompt_tokens} prompt + {f.output_tokens} output tokens"
    return extra(d) if extra else None


def screen(model: CatalogModel, route: RouteSettings, f: Features, extra: DeploymentFilter | None) -> Verdict:
    primary = model.primary
    if not primary.capabilities.chat:
        return Verdict(model.name, False, "serves no chat completions")
    if route.needs_frontier_reasoning and primary.open_weight:
        return Verdict(model.name, False, "route needs frontier reasoning; this is an open-weight model")
    if not route.allow_self_hosted and primary.perimeter == "internal":
        return Verdict(model.name, False, "route does not allow self-hosted models")
    usable, problems = [], []
    for d in model.deployments:
        problem = _deployment_problem(d, f, extra)
        (problems.append(f"{d.name}: {problem}") if problem else usable.append(d))
    if not usable:
        return Verdict(model.name, False, "; ".join(problems))
    return Verdict(model.name, True, "", deployments=tuple(usable))


def decide(
    route: RouteSettings,
    features: Features,
    models: Sequence[CatalogModel],
    table: QualityTable,
    fraction: float,
    cost_of: CostOf,
    deployment_filter: DeploymentFilter | None = None,
    latency_of: LatencyOf | None = None,
) -> Decision:
    verdicts = [screen(m, route, features, deployment_filter) for m in models]
    for m, v in zip(models, verdicts):
        # every candidate is priced, kept or not: the most expensive one is the explanation's baseline
        cost = cost_of(v.deployments[0] if v.deployments else m.primary, features.prompt_tokens, features.output_tokens)
        v.estimated_cost_usd = None if cost is None else round(float(cost), 8)
        if not v.kept:
            continue
        v.quality = table.lookup(v.model, features.category)
        v.expected_quality = v.quality
    # With no quality data for any candidate, rank on cost alone; otherwise models without data drop out.
    if any(v.quality is not None for v in verdicts if v.kept):
        for v in verdicts:
            if v.kept and v.quality is None:
                v.kept, v.reason = False, f"no quality data for {features.category}"
    kept = [v for v in verdicts if v.kept]
    if not kept:
        raise nothing_can_serve(features, verdicts)
    scored = [v.expected_quality for v in kept if v.expected_quality is not None]
    required = fraction * max(scored) if scored else None
    for v in kept:
        if required is not None and v.expected_quality is not None and v.expected_quality < required - 1e-12:
            v.kept, v.reason = False, f"expected quality {v.expected_quality:.3f} below required {required:.3f}"
        else:
            v.reason = "qualifies" if required is not None else "only candidate"
    qualified = [v for v in kept if v.kept]

    def rank_key(v: Verdict) -> tuple[bool, float, float]:
        latency = min(latency_of(d) for d in v.deployments) if latency_of else 0.0
        return (v.estimated_cost_usd is None, v.estimated_cost_usd or 0.0, latency)

    ranked = sorted(qualified, key=rank_key)
    priced = [v for v in verdicts if v.estimated_cost_usd is not None]
    baseline = max(priced, key=lambda v: v.estimated_cost_usd or 0.0) if priced else None
    chosen = ranked[0]
    chosen.reason = "chosen: cheapest qualifying model"
    reason = (
        f"{features.category}: {chosen.model} is the cheapest of "
        f"{len(ranked)} qualifying model(s)"
        + (f" whose prior quality reaches {fraction:.0%} of the best ({chosen.expected_quality:.2f} >= {required:.2f})"
           if required is not None and chosen.expected_quality is not None else "")
        + f"; {len(verdicts) - len(ranked)} not chosen as fallback"
    )
    return Decision(
        route=route.name, features=features, ranked=ranked, verdicts=verdicts, reason=reason, rule="priors",
        required_quality=required, baseline_model=baseline.model if baseline else None,
        baseline_cost_usd=baseline.estimated_cost_usd if baseline else None,
    )


def nothing_can_serve(f: Features, verdicts: list[Verdict]) -> Exception:
    detail = "; ".join(f"{v.model}: {v.reason}" for v in verdicts)
    for need in f.needs:
        capability = CAPABILITY[need]
        if all(f"no {capability.description}" in v.reason for v in verdicts):
            return UnsupportedParameter(
                f"No model on this route supports {capability.description}. Candidates: {detail}",
                param=capability.param,
            )
    if all("context window" in v.reason for v in verdicts):
        return InvalidRequest(
            f"The prompt ({f.prompt_tokens} tokens) plus the output budget ({f.output_tokens}) fits no "
            f"candidate's context window. Candidates: {detail}",
            param="messages", code="context_length_exceeded",
        )
    return InvalidRequest(f"No model on this route can serve this request. Candidates: {detail}", code="no_route")
