"""``interlock costs project``: monthly spend of a traffic mix all-frontier, all-open, and as routed.

The mix (share of calls, prompt and completion tokens per category) comes from ``--mix``, else the
usage ledger's per-category averages, else ``DEFAULT_MIX``. Prices come from the mix file's own
``models``, the gateway config's deployments, or the price catalog, in that order. Routed means:
per category, the mix file's pinned model, else what ``routing.policy.decide`` picks with the
quality table. The arithmetic is ``accounting.scenarios``, the inputs ``cli.cost_mix``; this module
prints.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from interlock.accounting.catalog import PriceCatalogError
from interlock.accounting.costs import AnyPrice
from interlock.accounting.pricing import GpuHourPrice, PerTokenPrice
from interlock.accounting.scenarios import CallShape, ScenarioCost, project_scenario
from interlock.cli.cost_mix import (
    MixFile,
    PricedModels,
    RoutedPick,
    default_mix,
    ledger_mix,
    read_mix,
    route_mix,
)
from interlock.cli.loading import load_or_exit
from interlock.cli.spend_cmd import usd
from interlock.storage.database import ENV_DB_URL

LedgerOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar=ENV_DB_URL,
        show_default=False,
        help="ledger whose traffic is the mix without --mix (default: the config's, else the data dir's file)",
    ),
]

costs_app = typer.Typer(help="Project monthly model spend for a traffic mix.", no_args_is_help=True)
console = Console()
_err = Console(stderr=True)


def price_dict(price: AnyPrice) -> dict[str, Any]:
    out: dict[str, Any] = {"type": price.type}
    if isinstance(price, PerTokenPrice):
        out.update(
            input_per_mtok=str(price.input_per_mtok),
            output_per_mtok=str(price.output_per_mtok),
            cached_input_per_mtok=str(price.effective_cached_input_per_mtok),
        )
    elif isinstance(price, GpuHourPrice):
        out.update(price.model_dump(mode="json", exclude={"type"}), usd_per_mtok=str(price.usd_per_mtok))
    return out


def per_mtok(amount: Decimal) -> str:
    """``$3.00``, ``$0.125``, ``$0.5787``: cents, or up to four decimals when a price needs them."""
    whole, _, decimals = f"{amount:,.4f}".partition(".")
    return f"${whole}.{decimals.rstrip('0').ljust(2, '0')}"


def price_cells(price: AnyPrice) -> tuple[str, str, str, str]:
    """Input, cached input, output (USD per million tokens) and how the figure was reached."""
    if isinstance(price, PerTokenPrice):
        return (
            per_mtok(price.input_per_mtok),
            per_mtok(price.effective_cached_input_per_mtok),
            per_mtok(price.output_per_mtok),
            "list price",
        )
    if isinstance(price, GpuHourPrice):
        rate = per_mtok(price.usd_per_mtok)
        how = (
            f"{price.gpu_count} x {price.gpu_type} at {per_mtok(price.usd_per_gpu_hour)}/GPU-hour "
            f"({price.billing}), {price.throughput_tokens_per_s:,} tokens/s ({price.throughput_source}) "
            f"at {price.utilisation:.0%} utilisation"
        )
        return rate, rate, rate, how
    return "unknown", "unknown", "unknown", "no price: calls counted as unpriced"


def _plain(amount: Decimal | None) -> str | None:
    """A Decimal as JSON text without exponent notation."""
    return None if amount is None else f"{amount:f}"


@dataclass(frozen=True, slots=True)
class Planned:
    """One scenario's cost, and the model each category is served by in it (None: no model can)."""

    cost: ScenarioCost
    models: dict[str, str | None]

    def to_json(self) -> dict[str, Any]:
        s = self.cost
        lines = [
            {
                "category": line.shape.name,
                "model": self.models[line.shape.name],
                "calls": _plain(line.calls),
                "cost_per_call_usd": _plain(line.cost_per_call_usd),
                "monthly_cost_usd": _plain(line.monthly_cost_usd),
            }
            for line in s.lines
        ]
        return {
            "name": s.name,
            "monthly_cost_usd": _plain(s.monthly_cost_usd),
            "cost_per_call_usd": _plain(s.monthly_cost_usd / s.calls_per_month),
            "unpriced_calls": _plain(s.unpriced_calls),
            "lines": lines,
        }


def planned_scenario(name: str, calls: int, mix: MixFile, priced: PricedModels, models: dict[str, str | None]) -> Planned:
    """Project ``mix`` with each category served by ``models[category]``."""

    def price_for(shape: CallShape) -> AnyPrice:
        return priced.price(models[shape.name])

    return Planned(project_scenario(name, calls, mix.shapes(), price_for), models)


def mix_table(mix: MixFile, source: str, calls: int, picks: dict[str, RoutedPick]) -> Table:
    table = Table(title=f"Traffic mix: {source}, {calls:,} calls a month")
    for column in ("category", "share", "calls/month", "prompt tok", "output tok", "cached tok", "routed to"):
        table.add_column(
            column, justify="left" if column in ("category", "routed to") else "right", overflow="fold"
        )
    for name, c in mix.categories.items():
        pick = picks[name]
        routed = f"{pick.model} ({pick.why})" if pick.model else f"nothing: {pick.why}"
        table.add_row(
            name,
            f"{c.share:.1%}",
            f"{c.share * calls:,.0f}",
            f"{c.prompt_tokens:,}",
            f"{c.completion_tokens:,}",
            f"{c.cached_tokens:,}",
            escape(routed),
        )
    return table


def prices_table(priced: PricedModels) -> Table:
    table = Table(title="Prices assumed, USD per million tokens")
    for column in ("model", "open weight", "input", "cached input", "output", "from", "how"):
        table.add_column(column, overflow="fold")
    for model in priced.used:
        inp, cached, out, how = price_cells(priced.price(model))
        table.add_row(
            escape(model),
            "yes" if priced.open_weight(model) else "no",
            inp,
            cached,
            out,
            escape(priced.source(model)),
            escape(how),
        )
    return table


def costs_table(mix: MixFile, scenarios: list[Planned]) -> Table:
    """Monthly cost per category under each scenario, then the totals, per call, and against all-frontier."""
    table = Table(title="Projected monthly cost")
    table.add_column("category")
    for plan in scenarios:
        served = sorted({m for m in plan.models.values() if m})
        names = ", ".join(served) if len(served) < 3 else f"{len(served)} models"
        table.add_column(f"{plan.cost.name}\n({names})", justify="right", overflow="fold")
    for i, name in enumerate(mix.categories):
        table.add_row(name, *(usd(p.cost.lines[i].monthly_cost_usd) for p in scenarios))
    table.add_section()
    monthly = [p.cost.monthly_cost_usd for p in scenarios]
    calls = scenarios[0].cost.calls_per_month
    frontier = monthly[0]
    table.add_row("per month", *(usd(m) for m in monthly), style="bold")
    table.add_row("per call", *(f"${m / calls:.6f}" for m in monthly))
    table.add_row(
        "vs all-frontier", "-", *(f"{m / frontier - 1:+.1%}" if frontier else "-" for m in monthly[1:])
    )
    return table


@costs_app.command("project")
def project(
    calls_per_month: Annotated[int, typer.Option("--calls-per-month", min=1, help="monthly call volume")],
    mix_path: Annotated[
        Path | None, typer.Option("--mix", help="traffic mix, YAML or JSON (docs/economics.md)")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="gateway config: catalog, prices, policy")
    ] = None,
    open_model: Annotated[
        str | None, typer.Option("--open-model", help="the all-open model (default: the cheapest that fits)")
    ] = None,
    db: LedgerOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the projection as JSON")] = False,
) -> None:
    """Monthly spend of a traffic mix: all on the frontier model, all on an open model, and as routed."""
    loaded = load_or_exit(config)
    if mix_path is not None:
        mix, source = read_mix(mix_path), f"the mix in {mix_path.name}"
    else:
        found = ledger_mix(db or loaded.config.accounting.database_url)
        mix, source = found or (default_mix(), "the default mix (no --mix, no ledger traffic)")
    try:
        priced = PricedModels(loaded, mix.models)
        frontier = priced.frontier(mix.frontier)
        cheapest = priced.cheapest_open(mix.shapes(), calls_per_month, open_model or mix.open)
        picks = route_mix(loaded, priced, mix)
    except (PriceCatalogError, ValueError) as exc:
        _err.print(f"[bold red]{escape(str(exc))}[/]")
        raise typer.Exit(code=1) from None
    plans: list[tuple[str, dict[str, str | None]]] = [
        ("all-frontier", dict.fromkeys(mix.categories, frontier))
    ]
    if cheapest is not None:
        plans.append(("all-open", dict.fromkeys(mix.categories, cheapest)))
    plans.append(("routed", {name: pick.model for name, pick in picks.items()}))
    scenarios = [planned_scenario(name, calls_per_month, mix, priced, models) for name, models in plans]
    if as_json:
        print(
            json.dumps(
                {
                    "calls_per_month": calls_per_month,
                    "mix_source": source,
                    "mix": [
                        {
                            "category": n,
                            **c.model_dump(mode="json"),
                            "routed_to": picks[n].model,
                            "why": picks[n].why,
                        }
                        for n, c in mix.categories.items()
                    ],
                    "prices": {
                        m: {
                            **price_dict(priced.price(m)),
                            "open_weight": priced.open_weight(m),
                            "source": priced.source(m),
                        }
                        for m in priced.used
                    },
                    "scenarios": [plan.to_json() for plan in scenarios],
                },
                indent=2,
            )
        )
        return
    console.print(mix_table(mix, source, calls_per_month, picks))
    console.print(prices_table(priced))
    console.print(costs_table(mix, scenarios))
    if cheapest is None:
        console.print(
            "No priced open-weight model in the catalog fits every call of this mix (context window); "
            "name one with --open-model."
        )
    for plan in scenarios:
        if plan.cost.unpriced_calls:
            console.print(
                f"{plan.cost.name}: {plan.cost.unpriced_calls:,.0f} calls a month have no known price "
                "and are not counted."
            )
