"""``interlock route``: a dry run of the routing decision, explained, without calling any model.

One prompt (``interlock route PROMPT``) prints the decision; ``--batch FILE.jsonl`` routes one
request per line in this one process and writes one JSON decision per line.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from interlock.cli.loading import load_or_exit
from interlock.config.load import ConfigError, LoadedConfig
from interlock.errors import InterlockError
from interlock.compliance.gate import ComplianceGate, default_policy
from interlock.routing.decision import Decision
from interlock.routing.exclusions import Exclusions
from interlock.routing.router import Router
from interlock.routing.settings import AUTO_ROUTE
from interlock.wire.openai_chat import parse_chat_request

console = Console()
_err = Console(stderr=True)


class DryRun:
    """The gateway's compliance screen and router for one config, deciding without sending anything."""

    def __init__(self, loaded: LoadedConfig) -> None:
        self.loaded = loaded
        self.router = Router.from_config(loaded)
        self.gate = ComplianceGate(loaded.config.compliance or default_policy(), loaded.config.deployments,
                                   audit_path=None, always_scan=True)

    def decide(self, body: dict[str, Any]) -> tuple[Decision | None, dict[str, Any], InterlockError | None]:
        """(decision or None, compliance record, refusal or None) for an OpenAI chat body."""
        req = parse_chat_request(body)
        assessment = self.gate.assess(req.upstream_body(), key_id=None, team=None, is_up=lambda _name: True)
        compliance = {"detections": assessment.report.to_dict(),
                      "decision": assessment.decision.to_dict() if assessment.decision else None}
        try:
            if assessment.refused:
                assert assessment.decision is not None
                raise assessment.decision.refusal()
            barred = {d.name: why for d in self.loaded.config.deployments if (why := assessment.reason(d))}
            return self.router.decide(req, exclusions=Exclusions(barred)), compliance, None
        except InterlockError as exc:
            return None, compliance, exc


def route(
    prompt: str | None = typer.Argument(None, help="the user message to route (or --batch)"),
    config: Path | None = typer.Option(None, "--config", "-c", help="YAML config; default: the embedded default"),
    route_name: str = typer.Option(AUTO_ROUTE, "--route", "-r", help="route name (default: auto)"),
    system: str | None = typer.Option(None, help="an optional system prompt"),
    max_tokens: int | None = typer.Option(None, help="the request's max_tokens"),
    as_json: bool = typer.Option(False, "--json", help="print the decision record as JSON"),
    batch: Path | None = typer.Option(None, "--batch", help="JSONL file: one {\"prompt\"} or {\"messages\"} a line"),
    out: Path | None = typer.Option(None, "--out", "-o", help="with --batch: write decisions here (default: stdout)"),
) -> None:
    """Show how a prompt would be routed: features, every candidate kept or dropped and why, the pick."""
    if (prompt is None) == (batch is None):
        raise typer.BadParameter("give a PROMPT or --batch FILE, not both")
    loaded = load_or_exit(config)
    try:
        dry = DryRun(loaded)
    except ConfigError as exc:
        _err.print(f"[bold red]{exc}[/]", markup=False)
        raise typer.Exit(code=1) from None
    if batch is not None:
        _route_batch(dry, batch, out, route_name)
        return
    assert prompt is not None
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
    body: dict[str, Any] = {"model": route_name, "messages": messages}
    if max_tokens:
        body["max_tokens"] = max_tokens
    decision, compliance, refused = dry.decide(body)
    if refused is not None:
        if as_json:
            print(json.dumps({"refused": refused.to_openai()["error"], "compliance": compliance,
                              "config_hash": loaded.hash}, indent=2))
        else:
            console.print(f"[bold red]{refused.status} {refused.code}[/]: {refused.message}")
        raise typer.Exit(code=1)
    assert decision is not None
    if as_json:
        print(json.dumps({**decision.to_dict(), "compliance": compliance, "config_hash": loaded.hash}, indent=2))
        return
    _print_decision(decision, compliance, loaded.hash)


def _print_decision(decision: Decision, compliance: dict[str, Any], config_hash: str) -> None:
    classes = compliance["detections"].get("data_classes") or []
    allowed = (compliance["decision"] or {}).get("allowed")
    console.print(f"[bold]compliance[/] data classes: {', '.join(classes) or 'none'}"
                  + (f"; allowed deployments: {', '.join(sorted(allowed))}" if allowed is not None else ""))
    f = decision.features
    if f is not None:
        difficulty = "" if f.difficulty is None else f" difficulty={f.difficulty:.2f}"
        console.print(f"[bold]features[/] category={f.category} (p={f.confidence:.2f}){difficulty} "
                      f"prompt_tokens={f.prompt_tokens} output_tokens={f.output_tokens} needs={list(f.needs) or '-'}")
        terms = list(dict.fromkeys(e.split(":", 1)[-1] for e in f.evidence))
        if terms:
            console.print(f"  classified on: {', '.join(terms)}")
    table = Table("model", "kept", "quality", "est. cost (USD)", "why")
    for v in decision.verdicts:
        table.add_row(v.model, "yes" if v.kept else "no", _num(v.quality), _num(v.estimated_cost_usd, 6), v.reason)
    console.print(table)
    chosen = decision.chosen
    console.print(f"[bold green]pick[/] {chosen.model} via {chosen.deployments[0].name} ({decision.rule}): "
                  f"{decision.reason}")
    if decision.baseline_cost_usd and chosen.estimated_cost_usd is not None:
        share = chosen.estimated_cost_usd / decision.baseline_cost_usd
        console.print(f"expected cost ${chosen.estimated_cost_usd:.6f} vs ${decision.baseline_cost_usd:.6f} on "
                      f"{decision.baseline_model} (the baseline): {share:.1%}")
    if decision.policy is not None:
        console.print(f"policy {decision.policy['version']} (sha256 {decision.policy['sha256']}...)")
    console.print(f"config hash {config_hash}")


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if line.strip():
                yield number, line


def _batch_body(record: Any, route_name: str) -> dict[str, Any]:
    if not isinstance(record, dict) or ("prompt" in record) == ("messages" in record):
        raise ValueError('each line needs exactly one of "prompt" (a string) or "messages" (OpenAI messages)')
    messages = record.get("messages") or [{"role": "user", "content": record["prompt"]}]
    body: dict[str, Any] = {"model": record.get("route", route_name), "messages": messages}
    if record.get("max_tokens") is not None:
        body["max_tokens"] = record["max_tokens"]
    return body


def _batch_record(dry: DryRun, number: int, line: str, route_name: str) -> dict[str, Any]:
    key: Any = None
    try:
        record = json.loads(line)
        key = record.get("id") if isinstance(record, dict) else None
        decision, compliance, refused = dry.decide(_batch_body(record, route_name))
    except InterlockError as exc:  # e.g. an unknown model or route: reported in place, the batch goes on
        return {"id": key, "line": number, "error": {"code": exc.code, "message": exc.message}}
    except ValueError as exc:
        return {"id": key, "line": number, "error": {"code": "invalid_line", "message": str(exc)}}
    if refused is not None:
        return {"id": key, "line": number, "refused": refused.to_openai()["error"]}
    assert decision is not None
    f = decision.features
    return {"id": key, "line": number, "model": decision.chosen.model, "rule": decision.rule,
            "category": f.category if f else None, "confidence": round(f.confidence, 3) if f else None,
            "fallbacks": [v.model for v in decision.ranked[1:]], "reason": decision.reason,
            "estimated_cost_usd": decision.chosen.estimated_cost_usd,
            "baseline_cost_usd": decision.baseline_cost_usd,
            "data_classes": compliance["detections"].get("data_classes") or [],
            "policy": decision.policy["version"] if decision.policy else None}


def _route_batch(dry: DryRun, path: Path, out: Path | None, route_name: str) -> None:
    try:
        total = sum(1 for _ in _lines(path))
    except OSError as exc:
        raise typer.BadParameter(f"{path}: {exc.strerror}", param_hint="--batch") from None
    sink: TextIO = out.open("w", encoding="utf-8") if out else sys.stdout
    counts: dict[str, int] = {}
    try:
        with Progress(console=_err, transient=True, disable=out is None) as progress:
            task = progress.add_task("routing", total=total)
            for number, line in _lines(path):
                record = _batch_record(dry, number, line, route_name)
                sink.write(json.dumps(record, ensure_ascii=False) + "\n")
                key = record.get("model") or ("refused" if "refused" in record else "error")
                counts[key] = counts.get(key, 0) + 1
                progress.advance(task)
    finally:
        if out is not None:
            sink.close()
    summary = ", ".join(f"{k} {n:,}" for k, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    _err.print(f"routed {total:,} request(s): {summary}", highlight=False)


def _num(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"
