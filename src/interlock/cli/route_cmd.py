"""``interlock route PROMPT``: a dry run of the routing decision, explained, without calling any model."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from interlock.cli.loading import load_or_exit
from interlock.errors import InterlockError
from interlock.gateway.compliance_gate import ComplianceGate, default_policy
from interlock.gateway.runtime import Runtime
from interlock.routing.settings import AUTO_ROUTE
from interlock.wire.openai_chat import parse_chat_request

console = Console()


def route(
    prompt: str = typer.Argument(..., help="the user message to route"),
    config: Path | None = typer.Option(None, "--config", "-c", help="YAML config; default: the embedded default"),
    route_name: str = typer.Option(AUTO_ROUTE, "--route", "-r", help="route name (default: auto)"),
    system: str | None = typer.Option(None, help="an optional system prompt"),
    max_tokens: int | None = typer.Option(None, help="the request's max_tokens"),
    as_json: bool = typer.Option(False, "--json", help="print the decision record as JSON"),
) -> None:
    """Show how a prompt would be routed: features, every candidate kept or dropped and why, the pick."""
    loaded = load_or_exit(config)
    runtime = Runtime(loaded)
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
    body: dict[str, object] = {"model": route_name, "messages": messages}
    if max_tokens:
        body["max_tokens"] = max_tokens
    gate = ComplianceGate(loaded.config.compliance or default_policy(), loaded.config.deployments, audit_path=None)
    req = parse_chat_request(body)
    assessment = gate.assess(req.upstream_body(), key_id=None, team=None, is_up=lambda _name: True)
    compliance = {
        "detections": assessment.report.to_dict(),
        "decision": assessment.decision.to_dict() if assessment.decision else None,
    }
    try:
        if assessment.refused:
            assert assessment.decision is not None
            raise assessment.decision.refusal()
        decision = runtime.router.decide(req, deployment_filter=assessment.reason)
    except InterlockError as exc:
        if as_json:
            print(json.dumps({"refused": exc.to_openai()["error"], "compliance": compliance,
                              "config_hash": loaded.hash}, indent=2))
        else:
            console.print(f"[bold red]{exc.status} {exc.code}[/]: {exc.message}")
        raise typer.Exit(code=1) from None
    record = {**decision.to_dict(), "compliance": compliance, "config_hash": loaded.hash}
    if as_json:
        print(json.dumps(record, indent=2))
        return
    classes = assessment.report.to_dict().get("data_classes") or []
    console.print(f"[bold]compliance[/] data classes: {', '.join(classes) or 'none'}"
                  + (f"; allowed deployments: {', '.join(sorted(assessment.allowed))}" if assessment.decision else ""))
    f = decision.features
    if f is not None:
        console.print(f"[bold]features[/] category={f.category} (p={f.confidence:.2f}) difficulty={f.difficulty:.2f} "
                      f"prompt_tokens={f.prompt_tokens} output_tokens={f.output_tokens} needs={list(f.needs) or '-'}")
        terms = list(dict.fromkeys(e.split(":", 1)[-1] for e in f.evidence))
        if terms:
            console.print(f"  classified on: {', '.join(terms)}")
    table = Table("model", "kept", "quality", "expected", "est. cost (USD)", "why")
    for v in decision.verdicts:
        table.add_row(v.model, "yes" if v.kept else "no", _num(v.quality), _num(v.expected_quality),
                      _num(v.estimated_cost_usd, 6), v.reason)
    console.print(table)
    chosen = decision.chosen
    console.print(f"[bold green]pick[/] {chosen.model} via {chosen.deployments[0].name}: {decision.reason}")
    if decision.baseline_cost_usd and chosen.estimated_cost_usd is not None:
        share = chosen.estimated_cost_usd / decision.baseline_cost_usd
        console.print(f"expected cost ${chosen.estimated_cost_usd:.6f} vs ${decision.baseline_cost_usd:.6f} on "
                      f"{decision.baseline_model} (the most expensive candidate): {share:.1%}")
    console.print(f"config hash {loaded.hash}")


def _num(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"
