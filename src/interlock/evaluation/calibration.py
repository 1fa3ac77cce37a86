"""Calibration: from evaluation results and a quality floor, the routing policy the gateway executes.

Per task, the reference is the baseline model (default: the best overall, i.e. all-frontier; a task
the baseline has no data for uses that task's best model). The floor is ``target`` times the
reference's measured quality. For every cheaper model (by the cost per request the evaluation
measured) calibration finds the largest share of the task's traffic it may take while the paired
upper bound at ``risk`` keeps routed quality above the floor (``quality_floor``); a per-prompt
router, when one is trained, competes the same way. The cheapest option wins: one model (share 1),
a mix, or a router. Tasks with fewer than ``min_items`` paired items go to the reference, and say so.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import numpy as np

from interlock.evaluation.outcomes import OutcomeError, TaskOutcomes, task_outcomes
from interlock.evaluation.quality_floor import max_cheap_share, mean_bounds
from interlock.evaluation.results import Results
from interlock.routing.policy_file import (
    STRONGEST,
    ClassifierRef,
    DataSource,
    Estimate,
    MeasuredModel,
    ModelShare,
    Overall,
    PolicySettings,
    PromptRule,
    RoutingPolicy,
    TaskRoute,
)


@dataclass(frozen=True)
class Option:
    """One way to serve a task: per-item weights sent to ``cheap`` (the rest to ``reference``)."""

    rule: str
    cheap: str
    weights: np.ndarray
    mask: np.ndarray  # the paired items the weights refer to
    prompt_router: PromptRule | None = None
    save: Callable[[], PromptRule] | None = None  # writes a per-prompt router's artifact once it is picked


class PromptRouterTrainer(Protocol):
    """Offers a per-prompt router for one task and model pair, or None when it cannot do better."""

    def offer(self, outcomes: TaskOutcomes, cheap: str, strong: str, target: float, risk: float) -> Option | None: ...


def _estimate(values: np.ndarray, risk: float, digits: int = 6) -> Estimate:
    b = mean_bounds(values, risk)
    return Estimate(value=round(b.value, digits), low=round(max(b.low, -1e9), digits), high=round(min(b.high, 1e9), digits))


def _measured(o: TaskOutcomes) -> dict[str, MeasuredModel]:
    out = {}
    for model, scores in o.scores.items():
        ok = ~np.isnan(scores)
        if ok.any():
            out[model] = MeasuredModel(quality=round(float(scores[ok].mean()), 6),
                                       cost_per_request_usd=round(float(o.costs[model][ok].mean()), 10), n=int(ok.sum()))
    return out


def _mix_option(o: TaskOutcomes, cheap: str, ref: str, target: float, risk: float) -> Option | None:
    mask = o.paired(cheap, ref)
    if not mask.any():
        return None
    share = max_cheap_share(o.scores[cheap][mask], o.scores[ref][mask], target, risk)
    if share <= 0:
        return None
    return Option("single" if share >= 1.0 else "mix", cheap, np.full(int(mask.sum()), share), mask)


def _option_cost(o: TaskOutcomes, opt: Option, ref: str) -> float:
    c, r = o.costs[opt.cheap][opt.mask], o.costs[ref][opt.mask]
    return float((opt.weights * c + (1 - opt.weights) * r).mean())


def _route_from(o: TaskOutcomes, opt: Option | None, ref: str, floor: float, ranking: list[str],
                measured: dict[str, MeasuredModel], risk: float, n_items: int, reason: str,
                small_sample: bool = False) -> TaskRoute:
    """The task's route: ``opt`` on its paired items, or (None) everything to the reference."""
    if opt is None:
        mask = ~np.isnan(o.scores[ref])
        weights, cheap = np.zeros(int(mask.sum())), ref
    else:
        mask, weights, cheap = opt.mask, opt.weights, opt.cheap
    q = weights * o.scores[cheap][mask] + (1 - weights) * o.scores[ref][mask]
    c = weights * o.costs[cheap][mask] + (1 - weights) * o.costs[ref][mask]
    if opt is None or opt.rule == "single":
        models = [ModelShare(model=cheap if opt else ref, share=1.0)]
    elif opt.rule == "mix":
        share = round(float(weights[0]), 3)
        models = [ModelShare(model=cheap, share=share), ModelShare(model=ref, share=round(1 - share, 3))]
    else:
        share = float(weights.mean())
        models = [ModelShare(model=m, share=s) for m, s in ((cheap, share), (ref, 1 - share)) if s > 0]
        models = [models[0].model_copy(update={"share": 1.0})] if len(models) == 1 else models
    rule = opt.rule if opt else ("strongest_small_sample" if small_sample else "single")
    return TaskRoute(
        rule=rule, models=models, prompt_router=opt.prompt_router if opt else None, floor=round(floor, 6),
        n_items=n_items, quality=_estimate(q, risk), cost_per_request_usd=_estimate(c, risk, 10),
        baseline_quality=measured[ref].quality, baseline_cost_per_request_usd=measured[ref].cost_per_request_usd,
        ranking=ranking, measured=measured, reason=reason,
    )


def _task_route(o: TaskOutcomes, baseline: str, target: float, risk: float, min_items: int,
                trainer: PromptRouterTrainer | None) -> TaskRoute:
    measured = _measured(o)
    ranking = sorted(measured, key=lambda m: (-measured[m].quality, measured[m].cost_per_request_usd))
    ref = baseline if baseline in measured else ranking[0]
    floor = target * measured[ref].quality
    about = "" if ref == baseline else f" (the baseline {baseline} has no results here; {ref} is the reference)"
    paired_n = max((int(o.paired(m, ref).sum()) for m in measured if m != ref), default=0)
    if paired_n < min_items:
        return _route_from(o, None, ref, floor, ranking, measured, risk, measured[ref].n,
                           f"only {paired_n} paired item(s), fewer than min_items={min_items}: the task goes to "
                           f"{ref}{about} until there is more evidence", small_sample=True)
    cheaper = [m for m in measured if m != ref and measured[m].cost_per_request_usd < measured[ref].cost_per_request_usd]
    options = [opt for m in cheaper if (opt := _mix_option(o, m, ref, target, risk))]
    if trainer is not None:
        options += [opt for m in cheaper if (opt := trainer.offer(o, m, ref, target, risk))]
    if not options:
        return _route_from(o, None, ref, floor, ranking, measured, risk, paired_n,
                           f"no cheaper model keeps quality above the floor {floor:.3f} ({target:.0%} of {ref}) at "
                           f"risk {risk:g}{about}")
    best = min(options, key=lambda opt: _option_cost(o, opt, ref))
    if best.save is not None:
        best = replace(best, prompt_router=best.save())
    share = float(best.weights.mean())
    how = {"single": f"{best.cheap} alone", "mix": f"{share:.1%} of the traffic to {best.cheap}, the rest to {ref}",
           "prompt_router": f"a per-prompt router sends {share:.1%} of prompts to {best.cheap}, the rest to {ref}"}
    reason = (f"{how[best.rule]}: the cheapest way to keep quality above the floor {floor:.3f} "
              f"({target:.0%} of {ref}) with {1 - risk:.0%} confidence on {int(best.mask.sum())} paired items{about}")
    return _route_from(o, best, ref, floor, ranking, measured, risk, int(best.mask.sum()), reason)


def default_baseline(outcomes: Mapping[str, TaskOutcomes], models: list[str]) -> str:
    """The model with the best overall measured quality, ties to the costlier: today's all-frontier choice."""
    def overall(m: str) -> tuple[float, float]:
        scores = np.concatenate([o.scores[m] for o in outcomes.values()])
        costs = np.concatenate([o.costs[m] for o in outcomes.values()])
        ok = ~np.isnan(scores)
        return (float(scores[ok].mean()), float(costs[ok].mean())) if ok.any() else (-1.0, 0.0)

    return max(models, key=overall)


def _overall(tasks: Mapping[str, TaskRoute], weights: Mapping[str, float], risk: float) -> Overall:
    cost = sum(w * tasks[t].cost_per_request_usd.value for t, w in weights.items())
    base_cost = sum(w * tasks[t].baseline_cost_per_request_usd for t, w in weights.items())
    quality = sum(w * tasks[t].quality.value for t, w in weights.items())
    base_quality = sum(w * tasks[t].baseline_quality for t, w in weights.items())
    # the interval of the routed quality, tasks independent, relative to the (fixed) baseline quality
    spread = sum((w * (tasks[t].quality.high - tasks[t].quality.low) / 2) ** 2 for t, w in weights.items()) ** 0.5
    share = quality / base_quality if base_quality else 1.0
    half = spread / base_quality if base_quality else 0.0
    return Overall(
        quality_share=Estimate(value=round(share, 6), low=round(share - half, 6), high=round(share + half, 6)),
        cost_per_1k_usd=round(cost * 1000, 6), baseline_cost_per_1k_usd=round(base_cost * 1000, 6),
        cost_share=round(cost / base_cost, 6) if base_cost else 1.0,
        savings_fraction=round(1 - cost / base_cost, 6) if base_cost else 0.0,
    )


def calibrate(
    results: Results,
    target: float = 0.95,
    *,
    mix: Mapping[str, float] | None = None,
    baseline: str | None = None,
    open_models: Collection[str] | None = None,
    risk: float = 0.05,
    min_items: int = 30,
    uncovered: str = STRONGEST,
    source: str = "<results>",
    source_sha256: str | None = None,
    trainer: PromptRouterTrainer | None = None,
    classifier: ClassifierRef | None = None,
) -> Calibration:
    """The routing policy at ``target`` (share of the baseline's quality, in (0, 1]) and ``risk``."""
    if not 0 < target <= 1:
        raise ValueError(f"target must be in (0, 1], got {target}")
    if not 0 < risk < 0.5:
        raise ValueError(f"risk must be in (0, 0.5), got {risk}")
    if baseline is not None and baseline not in results.models:
        raise ValueError(f"baseline {baseline!r} is not among the evaluated models {results.models}")
    if uncovered != STRONGEST and uncovered not in results.models:
        raise ValueError(f"uncovered={uncovered!r}: use `{STRONGEST}` or one of the evaluated models {results.models}")
    outcomes = task_outcomes(results)
    baseline = baseline or default_baseline(outcomes, results.models)
    tasks = {t: _task_route(o, baseline, target, risk, min_items, trainer) for t, o in sorted(outcomes.items())}
    raw = dict(mix) if mix is not None else {t: float(len(o.item_ids)) for t, o in outcomes.items()}
    if any(w < 0 for w in raw.values()):
        raise ValueError("traffic mix weights must not be negative")
    raw = {t: w for t, w in raw.items() if t in tasks and w > 0}
    total = sum(raw.values())
    if not total:
        raise ValueError(f"the traffic mix has no weight on any evaluated task ({', '.join(tasks)})")
    weights = {t: round(w / total, 6) for t, w in raw.items()}
    digest = source_sha256 or hashlib.sha256(results.to_jsonl().encode()).hexdigest()
    now = datetime.now(UTC)
    policy = RoutingPolicy(
        version=f"{now:%Y%m%dT%H%M%SZ}-{digest[:8]}",
        generated_at=now.isoformat(timespec="seconds"),
        data=DataSource(source=source, sha256=digest, suite=results.header.suite, items=len(results.items),
                        models=results.models),
        settings=PolicySettings(target=target, risk=risk, min_items=min_items, baseline=baseline, uncovered=uncovered),
        classifier=classifier, tasks=tasks, traffic=weights, expected=_overall(tasks, weights, risk),
    )
    return Calibration(policy, frozenset(open_models) if open_models is not None else None)


@dataclass(frozen=True, slots=True)
class Route:
    """One task's route, in the terms the reports print."""

    category: str
    model: str  # the model taking most of the traffic (a mix names both in ``label``)
    label: str
    quality: float
    cost_per_1k_usd: float
    best_model: str
    best_quality: float
    baseline_model: str
    baseline_quality: float
    baseline_cost_per_1k_usd: float


@dataclass(frozen=True)
class Calibration:
    """A policy with the aggregate views the CLI and the report print."""

    policy: RoutingPolicy
    open_models: frozenset[str] | None = None

    @property
    def suite(self) -> str:
        return self.policy.data.suite

    @property
    def target(self) -> float:
        return self.policy.settings.target

    @property
    def mix(self) -> dict[str, float]:
        return dict(self.policy.traffic)

    @property
    def routes(self) -> dict[str, Route]:
        out = {}
        for task, r in self.policy.tasks.items():
            main = max(r.models, key=lambda s: s.share)
            label = " + ".join(f"{s.model} {s.share:.1%}" for s in r.models) if len(r.models) > 1 else main.model
            ref = r.ranking[0]
            out[task] = Route(task, main.model, label, r.quality.value, r.cost_per_request_usd.value * 1000, ref,
                              r.measured[ref].quality, self.policy.settings.baseline, r.baseline_quality,
                              r.baseline_cost_per_request_usd * 1000)
        return out

    @property
    def expected_cost_per_1k_usd(self) -> float:
        return self.policy.expected.cost_per_1k_usd

    @property
    def baseline_cost_per_1k_usd(self) -> float:
        return self.policy.expected.baseline_cost_per_1k_usd

    @property
    def savings_fraction(self) -> float | None:
        return self.policy.expected.savings_fraction if self.baseline_cost_per_1k_usd else None

    @property
    def quality_fraction(self) -> float:
        return self.policy.expected.quality_share.value

    @property
    def open_share(self) -> float | None:
        """Share of the traffic the policy sends to open-weight models (when those are named)."""
        if self.open_models is None:
            return None
        return sum(w * s.share for t, w in self.policy.traffic.items() for s in self.policy.tasks[t].models
                   if s.model in self.open_models)

    def monthly_savings_usd(self, requests_per_month: float) -> float:
        return (self.baseline_cost_per_1k_usd - self.expected_cost_per_1k_usd) * requests_per_month / 1000

    def to_yaml(self) -> str:
        return self.policy.to_yaml()

    def write(self, path: str | Path) -> None:
        Path(path).write_text(self.to_yaml(), encoding="utf-8")


__all__ = ["Calibration", "OutcomeError", "Option", "PromptRouterTrainer", "Route", "calibrate", "default_baseline"]
