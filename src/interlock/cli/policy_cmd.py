"""``interlock policy``: inspect a routing policy and replay results through the gateway's router."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from interlock.cli.loading import load_or_exit
from interlock.cli.report_cmd import ResultsArg, _err, console, read_results
from interlock.config.load import ConfigError

if TYPE_CHECKING:
    from interlock.evaluation.simulation import Tally

policy_app = typer.Typer(help="Routing policies written by `interlock calibrate`.", no_args_is_help=True)


@policy_app.command("simulate")
def simulate_command(
    results_path: ResultsArg,
    policy: Annotated[Path | None, typer.Option("--policy", "-p", help="policy file (default: the config's "
                                                "routing.policy)")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="gateway config whose catalog, screens "
                                                "and classifier apply (default: only the policy's models)")] = None,
    route: Annotated[str, typer.Option("--route", "-r", help="route to replay through")] = "auto",
    seed: Annotated[int, typer.Option(help="seed for traffic-mix draws")] = 0,
) -> None:
    """Replay held-out results through the gateway's router: realized quality and cost next to the promise."""
    import dataclasses
    import random

    from interlock.evaluation.simulation import replay_config, simulate
    from interlock.routing.policy_file import load_policy
    from interlock.routing.router import Router

    try:
        if config is not None:
            loaded = load_or_exit(config)
            if policy is not None:
                loaded = dataclasses.replace(loaded, policy=load_policy(policy))
        elif policy is not None:
            loaded = replay_config(str(policy))
        else:
            raise typer.BadParameter("give --policy, or --config with routing.policy set")
        router = Router.from_config(loaded)
    except ConfigError as exc:
        _err.print(f"[bold red]{escape(str(exc))}[/]", highlight=False)
        raise typer.Exit(code=1) from None
    router.draw = random.Random(seed).random
    results = read_results(results_path)
    try:
        with console.status("replaying ..."):
            sim = simulate(results, router, route)
    except ValueError as exc:
        _err.print(f"[bold red]{escape(str(exc))}[/]", highlight=False)
        raise typer.Exit(code=1) from None
    if not sim.overall.items:
        _err.print("[bold red]nothing to replay: the results carry no prompts (`messages`) with answers from the "
                   "picked models and the baseline[/]")
        raise typer.Exit(code=1)
    baseline = sim.policy.settings.baseline
    table = Table(title=f"{results_path.name}: % of {baseline}'s, promised → realized ±1 s.e.")
    for column in ("task", "items", "quality %", "cost %", "misrouted"):
        table.add_column(column, no_wrap=column != "task", overflow="fold")
    for task, tally in sorted(sim.tasks.items()):
        table.add_row(task, str(tally.items), *_pair(sim.promised(task), tally), f"{tally.misrouted / tally.items:.1%}")
    o = sim.overall
    table.add_row("overall", str(o.items), *_pair(sim.promised_overall(), o), f"{o.misrouted / o.items:.1%}",
                  style="bold")
    console.print(table)
    picks = ", ".join(f"{m} {n / o.items:.1%}" for m, n in sorted(o.picks.items(), key=lambda kv: -kv[1]))
    console.print(f"policy {sim.policy.version}\ntraffic: {picks}", highlight=False)
    if sim.skipped:
        console.print(f"{sim.skipped} item(s) skipped: no prompt, or no scored answer from the picked model or "
                      f"{baseline}", highlight=False)


def _pair(promised: tuple[float, float] | None, tally: Tally) -> tuple[str, str]:
    """``95.0 → 95.6 ±0.6`` (percent) for quality and for cost (± one standard error of the realized share)."""
    pq, pc = (f"{promised[0] * 100:.1f}", f"{promised[1] * 100:.1f}") if promised else ("none", "none")
    return (f"{pq} → {tally.quality_share * 100:.1f} ±{tally.quality_share_error * 100:.1f}",
            f"{pc} → {tally.cost_share * 100:.1f} ±{tally.cost_share_error * 100:.1f}")
