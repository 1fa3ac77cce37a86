"""Routing economics on public outcomes: calibrate on one half, replay the other half through the router.

RouteLLM's released outcomes (Mixtral-8x7B-Instruct vs GPT-4-1106-preview on MMLU, GSM8K and
MT-Bench; see routellm_results.py) are split in two halves per task (seeded). `interlock calibrate`
runs on the first half (task classifier trained on its prompts, per-prompt routers when asked),
then every prompt of the second half goes through `Router.decide` as a live request would. Per task
and over the mixed workload: share of frontier (GPT-4) quality and cost, promise against delivery,
and, for per-prompt routers, APGR and AIQ on the held-out half.

    python benchmarks/routing_economics/bench_economics.py --evals ROUTELLM/routellm/evals \
        [--targets 0.9,0.95] [--prompt-routers] [--out results.md]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from routellm_results import STRONG, WEAK, gsm8k, mmlu, mt_bench  # noqa: E402

from interlock.cli.calibrate_cmd import train_task_classifier  # noqa: E402
from interlock.evaluation import Results, calibrate  # noqa: E402
from interlock.evaluation.results import ResultsHeader  # noqa: E402
from interlock.evaluation.simulation import Simulation, replay_config, simulate  # noqa: E402
from interlock.routing.router import Router  # noqa: E402


def split(results: Results, seed: int) -> tuple[Results, Results]:
    """Half of each task's items for calibration, the other half held out."""
    by_task: dict[str, set[str]] = defaultdict(set)
    for row in results.items:
        by_task[row.category].add(row.item_id)
    held_out: set[str] = set()
    rng = random.Random(seed)
    for ids in by_task.values():
        ordered = sorted(ids)
        rng.shuffle(ordered)
        held_out |= set(ordered[: len(ordered) // 2])
    pick = lambda keep: Results(header=results.header, items=[r for r in results.items if keep(r.item_id)])  # noqa: E731
    return pick(lambda i: i not in held_out), pick(lambda i: i in held_out)


def trainer_for(enabled: bool):  # type: ignore[no-untyped-def]
    if not enabled:
        return None
    from interlock.evaluation.prompt_routing import OutOfFoldRouterTrainer

    return OutOfFoldRouterTrainer


def run(results: Results, target: float, seed: int, prompt_routers: bool, workdir: Path) -> tuple[Simulation, float]:
    train, held_out = split(results, seed)
    out = workdir / f"policy-{target}.yaml"
    started = time.perf_counter()
    classifier, _ = train_task_classifier(train, out)
    trainer_class = trainer_for(prompt_routers)
    trainer = trainer_class(out) if trainer_class else None
    calibrate(train, target=target, classifier=classifier, trainer=trainer).write(out)
    seconds = time.perf_counter() - started
    return simulate(held_out, Router.from_config(replay_config(str(out)))), seconds


def table(sim: Simulation, target: float, seconds: float) -> str:
    lines = [f"### Floor {target:.0%} of GPT-4's quality (calibration {seconds:.0f} s)", "",
             "| task | rule | items | quality share: promised → realized | cost share: promised → realized | "
             "to Mixtral | misrouted | router APGR / AIQ (out-of-fold) |",
             "| --- | --- | ---: | --- | --- | ---: | ---: | --- |"]
    rows = sorted(sim.tasks.items()) + [("**mixed workload**", sim.overall)]
    for task, tally in rows:
        promised = sim.promised(task) if task in sim.tasks else sim.promised_overall()
        pq, pc = (f"{promised[0]:.1%}", f"{promised[1]:.1%}") if promised else ("-", "-")
        weak = tally.picks.get(WEAK, 0) / tally.items
        route = sim.policy.tasks.get(task)
        rule = route.rule.replace("_", " ") if route else ""
        metrics = route.prompt_router.metrics if route and route.prompt_router else None
        quality = f"{metrics['apgr']:.3f} / {metrics['aiq']:.3f}" if metrics else "-"
        lines.append(f"| {task} | {rule} | {tally.items:,} | {pq} → {tally.quality_share:.1%} ± "
                     f"{tally.quality_share_error:.1%} | {pc} → {tally.cost_share:.1%} ± {tally.cost_share_error:.1%} | "
                     f"{weak:.1%} | {tally.misrouted / tally.items:.1%} | {quality} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--evals", type=Path, default=os.environ.get("INTERLOCK_ROUTELLM_EVALS"),
                        help="RouteLLM's routellm/evals folder (or INTERLOCK_ROUTELLM_EVALS)")
    parser.add_argument("--targets", default="0.9,0.95")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--prompt-routers", action="store_true", help="let calibrate train per-prompt routers")
    parser.add_argument("--out", type=Path, help="also write the tables to this Markdown file")
    args = parser.parse_args(argv)
    if args.evals is None:
        parser.error("give --evals (a clone of lm-sys/RouteLLM: routellm/evals) or set INTERLOCK_ROUTELLM_EVALS")
    items = [*mmlu(args.evals), *gsm8k(args.evals), *mt_bench(args.evals)]
    results = Results(header=ResultsHeader(suite="routellm-public", models=[WEAK, STRONG]), items=items)
    sections = []
    with tempfile.TemporaryDirectory() as tmp:
        for target in (float(t) for t in args.targets.split(",")):
            sim, seconds = run(results, target, args.seed, args.prompt_routers, Path(tmp))
            sections.append(table(sim, target, seconds))
            print(sections[-1] + "\n", flush=True)
    if args.out:
        args.out.write_text("\n\n".join(sections) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
