"""``interlock calibrate``: from evaluation results to the routing policy the gateway executes.

Writes the policy (YAML) and, beside it, the artifacts it references: a task classifier trained on
the suite's own prompts when its task labels are not the shipped generic categories, and per-prompt
routers where they beat a plain traffic mix.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from interlock.cli.report_cmd import (
    POLICY,
    BaselineOption,
    ConfigOption,
    DbOption,
    LedgerMixOption,
    MixOption,
    OpenOption,
    ResultsArg,
    TargetOption,
    TrafficMix,
    VolumeOption,
    _err,
    check_target,
    console,
    note_uncovered,
    open_models_for,
    read_results,
    traffic_mix,
)

if TYPE_CHECKING:
    from interlock.evaluation import Calibration, Results
    from interlock.routing.policy_file import ClassifierRef


def _task_classifier(results: Results, out: Path, force: bool) -> ClassifierRef | None:
    """Train and write the suite-label classifier when the labels are the customer's own (or asked)."""
    from interlock.evaluation.suite import TaskCategory

    labels = {r.category for r in results.items}
    if labels <= {c.value for c in TaskCategory} and not force:
        _err.print("tasks are interlock's generic categories: the shipped request classifier routes them "
                   "(--train-classifier to train one on this suite's prompts instead)", markup=False)
        return None
    unprompted = sorted(labels - {r.category for r in results.items if r.messages})
    if unprompted:
        _err.print(f"[bold red]tasks {escape(', '.join(unprompted))} are not interlock's generic categories and the "
                   "results carry no prompts (`messages`) for them, so no classifier can learn to recognise "
                   "them: rerun `interlock eval` (it records each prompt) or label items with the generic "
                   "categories.[/]", highlight=False)
        raise typer.Exit(code=1)
    with console.status("training the task classifier on the suite's prompts ..."):
        ref, path = train_task_classifier(results, out)
    console.print(f"task classifier: {len(ref.labels)} tasks, held-out accuracy {ref.heldout_accuracy:.1%} "
                  f"on {ref.n_heldout:,} prompts (trained on {ref.n_train:,}); wrote {path}", highlight=False)
    return ref


def train_task_classifier(results: Results, out: Path) -> tuple[ClassifierRef, Path]:
    """Fit the classifier on every item's prompt (once per item) and write it beside the policy ``out``."""
    from interlock.routing.classifier.features import prompt_text
    from interlock.routing.classifier.task_training import fit_task_classifier
    from interlock.routing.policy_file import ClassifierRef

    prompts = {r.item_id: (prompt_text(r.messages).combined(), r.category) for r in results.items if r.messages}
    texts, labels = zip(*prompts.values())
    artifact, report = fit_task_classifier(list(texts), list(labels))
    path = out.with_name(out.stem + ".classifier.joblib")
    artifact.save(path)
    ref = ClassifierRef(path=path.name, sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                        labels=list(report.labels), heldout_accuracy=report.heldout_accuracy,
                        n_train=report.n_train, n_heldout=report.n_heldout)
    return ref, path


def print_calibration(calibration: Calibration, traffic: TrafficMix, requests_per_month: float | None) -> None:
    from interlock.reports.money import format_usd as money

    policy = calibration.policy
    s = policy.settings
    table = Table(title=f"Policy: quality floor {s.target:.0%} of {s.baseline}, risk {s.risk:g}")
    for k, column in enumerate(("task", "rule", "traffic split", "quality [CI]", "floor", "$ / 1k", "items", "mix")):
        table.add_column(column, overflow="fold", no_wrap=k not in (2, 3))
    for task, r in policy.tasks.items():
        split = " + ".join(f"{escape(m.model)} {m.share:.1%}" for m in r.models)
        share = f"{policy.traffic[task]:.0%}" if task in policy.traffic else "-"
        table.add_row(task, r.rule.replace("_", " "), split,
                      f"{r.quality.value:.3f} [{r.quality.low:.3f}, {r.quality.high:.3f}]", f"{r.floor:.3f}",
                      money(r.cost_per_request_usd.value * 1000), str(r.n_items), share)
    console.print(table)
    for task, r in policy.tasks.items():
        if r.rule in ("strongest_small_sample", "single") and r.models[0].model == r.ranking[0]:
            console.print(f"  {task}: {r.reason}", highlight=False, markup=False)
        if r.prompt_router is not None:
            m = r.prompt_router.metrics
            console.print(f"  {task}: per-prompt router, out-of-fold APGR {m.get('apgr', 0):.2f}, AIQ "
                          f"{m.get('aiq', 0):.2f} on {int(m.get('items', 0)):,} prompts; writes {r.prompt_router.path}",
                          highlight=False, markup=False)
    e = policy.expected
    console.print(f"Promised, weighted by {traffic.source}:", highlight=False)
    console.print(f"  quality {e.quality_share.value:.1%} of {s.baseline}'s (interval {e.quality_share.low:.1%} to "
                  f"{e.quality_share.high:.1%})", highlight=False)
    console.print(f"  cost per 1,000 requests {money(e.cost_per_1k_usd)} against {money(e.baseline_cost_per_1k_usd)} "
                  f"all on {s.baseline}: {e.savings_fraction:.1%} saved", highlight=False)
    if calibration.open_share is not None and calibration.open_models:
        console.print(f"  open models ({', '.join(sorted(calibration.open_models))}) take "
                      f"{calibration.open_share:.0%} of the traffic", highlight=False)
    if requests_per_month:
        console.print(f"  about {money(calibration.monthly_savings_usd(requests_per_month))} saved a month at "
                      f"{requests_per_month:,.0f} requests", highlight=False)


def calibrate_command(
    results_path: ResultsArg,
    target: TargetOption = 0.95,
    out: Annotated[Path, typer.Option("--out", "-o", help="policy file (YAML)")] = POLICY,
    risk: Annotated[float, typer.Option(help="chance a promised floor is missed (one-sided)", min=0.001,
                                        max=0.49)] = 0.05,
    min_items: Annotated[int, typer.Option(help="tasks with fewer paired items go to the strongest model",
                                           min=1)] = 30,
    uncovered: Annotated[str, typer.Option(help="live tasks without data: `strongest` or a model name")] = "strongest",
    train_classifier: Annotated[bool, typer.Option(help="train a task classifier even for generic categories")] = False,
    prompt_routers: Annotated[bool, typer.Option(help="train per-prompt routers where a task has enough prompts "
                                                 "(they compete with plain mixes; the cheaper wins)")] = True,
    mix: MixOption = None,
    from_ledger: LedgerMixOption = False,
    db: DbOption = None,
    requests_per_month: VolumeOption = None,
    open_models: OpenOption = None,
    config: ConfigOption = None,
    baseline: BaselineOption = None,
) -> None:
    """Write the routing policy the gateway executes (routing.policy), and print what it promises."""
    from interlock.evaluation import calibrate

    check_target(target)
    results = read_results(results_path)
    traffic = traffic_mix(mix, from_ledger, db, config)
    note_uncovered(traffic, results)
    opens = open_models_for(results, open_models, config)
    classifier = _task_classifier(results, out, train_classifier)
    trainer = None
    if prompt_routers and any(r.messages for r in results.items):
        from interlock.evaluation.prompt_routing import OutOfFoldRouterTrainer

        trainer = OutOfFoldRouterTrainer(out)
    try:
        with console.status("calibrating (per-prompt routers are cross-validated: this can take a minute) ..."):
            calibration = calibrate(
                results, target, mix=traffic.weights, baseline=baseline, open_models=opens, risk=risk,
                min_items=min_items, uncovered=uncovered, source=str(results_path),
                source_sha256=hashlib.sha256(results_path.read_bytes()).hexdigest(), classifier=classifier,
                trainer=trainer,
            )
    except ValueError as exc:
        _err.print(f"[bold red]{escape(str(exc))}[/]", highlight=False)
        raise typer.Exit(code=1) from None
    calibration.write(out)
    print_calibration(calibration, traffic, requests_per_month or traffic.requests_per_month)
    console.print(f"wrote {out} (policy {calibration.policy.version}); to route with it, set in the gateway config:")
    console.print(f"  routing:\n    policy: {out.resolve()}", highlight=False, markup=False)
    console.print(f"check it on held-out results: interlock policy simulate HELDOUT.jsonl --policy {out}",
                  highlight=False, markup=False)
