"""``interlock eval SUITE --models A,B``: run a suite of your own tasks on models through the gateway.

Without ``--base-url`` the command starts a private gateway for the config (or the embedded
default) on a free 127.0.0.1 port, with authentication, the usage ledger and shared Redis state
turned off for that instance only, and stops it when the run ends.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from interlock.cli.loading import load_or_exit
from interlock.cli.private_gateway import GatewayStartFailed, private_config, private_gateway
from interlock.config.deployments import LlamaCppDeployment
from interlock.config.schema import GatewayConfig
from interlock.providers.types import provider_type
from interlock.routing.settings import AUTO_ROUTE
from interlock.storage.database import default_sqlite_path

if TYPE_CHECKING:
    from interlock.evaluation import Results, Suite
    from interlock.reports.blocks import TableCell

# The evaluation and report packages (numpy, matplotlib) are imported where used, so that every
# other command starts without them.

ENV_API_KEY = "INTERLOCK_API_KEY"
console = Console(stderr=True, soft_wrap=True)  # messages are left to the terminal to wrap


def default_cache_path() -> Path:
    """``eval-cache.sqlite`` beside the default database, in the user data dir."""
    return default_sqlite_path().parent / "eval-cache.sqlite"


def known_names(config: GatewayConfig) -> tuple[list[str], list[str]]:
    """Catalog models, and the other names the gateway answers to (aliases, routes, ``auto``)."""
    models = sorted({d.model for d in config.deployments})
    others = sorted({a.name for a in config.aliases} | {r.name for r in config.routes} | {AUTO_ROUTE})
    return models, others


def remote_names(base_url: str, api_key: str | None) -> list[str] | str:
    """The names a running gateway lists at ``/v1/models`` (routes included), or why it could not say."""
    root = base_url.rstrip("/").removesuffix("/v1")
    headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # like the runner: no env proxies
    try:
        request = urllib.request.Request(f"{root}/v1/models", headers=headers)
        with opener.open(request, timeout=15) as response:
            return sorted(str(entry["id"]) for entry in json.load(response)["data"])
    except urllib.error.HTTPError as exc:
        hint = " (a key is needed: --api-key or INTERLOCK_API_KEY)" if exc.code == 401 else ""
        return f"{root}/v1/models answered HTTP {exc.code}{hint}"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"{root}/v1/models could not be read: {exc}"


def check_names(wanted: Iterable[str], models: Sequence[str], others: Sequence[str], option: str) -> None:
    """Exit 2 naming what is unknown and listing what exists (a long list is never cut short)."""
    unknown = [name for name in dict.fromkeys(wanted) if name not in models and name not in others]
    if unknown:
        extra = f"; aliases and routes: {', '.join(others)}" if others else ""
        console.print(f"{option}: unknown model {', '.join(map(repr, unknown))}; catalog models: "
                      f"{', '.join(models)}{extra}", markup=False, highlight=False)
        raise typer.Exit(code=2)


def exit_if_unservable(problems: dict[str, list[str]]) -> None:
    """Exit 2 before any call when a name has no deployment that can serve it, saying why."""
    if not problems:
        return
    for name, lines in problems.items():
        console.print(f"{name}: no deployment can serve it: {'; '.join(lines)}", markup=False, highlight=False)
    console.print("Nothing was run: fix the above (set the variables, start the upstreams) and run again.")
    raise typer.Exit(code=2)


def local_preflight(config: GatewayConfig, names: Iterable[str]) -> dict[str, list[str]]:
    """Preflight of the config the private gateway will run: keys set, upstreams reachable."""
    from interlock.gateway.preflight import run_preflight, unservable_names

    # The private gateway loads embedded weights at start and refuses to start if it cannot.
    embedded = {d.name for d in config.deployments if isinstance(d, LlamaCppDeployment)}
    return unservable_names(config, asyncio.run(run_preflight(config, embedded)), names)


def remote_preflight(base_url: str, names: Iterable[str]) -> dict[str, list[str]]:
    """What a running gateway's ``/readyz`` says about ``names``; nothing when it does not say."""
    root = base_url.rstrip("/").removesuffix("/v1")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{root}/readyz", timeout=15) as response:
            body = json.load(response)
    except urllib.error.HTTPError as exc:
        try:
            body = json.loads(exc.read())
        except ValueError:
            return {}
    except (OSError, ValueError):
        return {}
    if not isinstance(body, dict):
        return {}
    models = body.get("unavailable_models") or {}
    routes = set(body.get("unservable_routes") or ())
    problems = [str(p) for p in body.get("problems") or ()]
    out: dict[str, list[str]] = {}
    for name in dict.fromkeys(names):
        if name in models:
            out[name] = [str(line) for line in models[name]]
        elif name in routes:
            out[name] = problems
    return out


def judge_models(suite: Suite, judge_model: str | None) -> list[str]:
    """Every judge the run will call: ``--judge-model`` and judges named in items' options."""
    named = [getattr(item.options, "judge_model", None) for item in suite.items if item.scorer == "llm_judge"]
    return list(dict.fromkeys(n for n in [judge_model, *named] if n))


def _split(text: str) -> list[str]:
    return list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))


def _load_suite_or_exit(path: Path) -> Suite:
    from interlock.evaluation import SuiteError, load_suite

    try:
        return load_suite(path)
    except SuiteError as exc:
        console.print(f"[bold red]{escape(str(path))}: {len(exc.problems)} error(s)[/]")
        console.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(code=1) from None


def _rich(cell: TableCell) -> str:
    from interlock.reports.blocks import Strong

    return f"[bold]{escape(cell.text)}[/]" if isinstance(cell, Strong) else escape(cell)


def print_summary(results: Results, out: Console) -> None:
    """One column per model: quality per category, then overall quality, failures, cost and latency."""
    from interlock.evaluation.stats import summarize
    from interlock.reports.tables import MODEL_HEADERS, category_rows, model_rows

    summary = summarize(results)
    table = Table(title="Quality per category (mean score [95% interval]), then per model")
    for header in ["", *summary.models]:
        table.add_column(escape(header), overflow="fold")  # model names are never cut short
    for row in category_rows(summary):
        table.add_row(*(_rich(c) for c in row))
    table.add_section()
    per_model = model_rows(summary)
    labels = {"p50": "latency p50", "p95": "latency p95", "Pareto": "Pareto frontier"}
    for k, header in enumerate(MODEL_HEADERS[1:], start=1):
        label = "overall" if k == 1 else labels.get(header, header)
        table.add_row(label, *(_rich(row[k]) for row in per_model))
    out.print(table)


def _check_scorers(suite: Suite, judge_model: str | None) -> None:
    """Build the suite's scorers once before any call, so a missing judge model fails now."""
    from interlock.evaluation import ScorerConfigError, ScoringContext
    from interlock.evaluation.runner import build_scorers

    try:
        build_scorers(suite, ScoringContext(base_url="http://127.0.0.1", judge_model=judge_model))
    except ScorerConfigError as exc:
        console.print(f"[bold red]{escape(f'{suite.source}: {exc}')}[/]", highlight=False)
        raise typer.Exit(code=1) from None


def _say(message: str) -> None:
    console.print(f"  {message}", highlight=False)


def in_process_models(config: GatewayConfig, names: Iterable[str]) -> list[str]:
    """The names served only by in-process (llama.cpp) deployments, which answer one request at a time."""
    aliases = {a.name: a.target for a in config.aliases}
    return [
        name for name in names
        if (types := {d.type for d in config.deployments if d.model == aliases.get(name, name)})
        and all(provider_type(t).in_process for t in types)
    ]


def _on_private_gateway(config: Path | None, names: list[str], judges: list[str], concurrency: int | None,
                        run: Callable[[str, str | None, int], Results]) -> Results:
    loaded = load_or_exit(config)
    catalog, others = known_names(loaded.config)
    check_names(names, catalog, others, "--models")
    check_names(judges, catalog, others, "--judge-model")
    exit_if_unservable(local_preflight(loaded.config, [*names, *judges]))
    single = in_process_models(loaded.config, names)
    if concurrency is None and single:
        # More in flight would only queue inside the gateway: no faster, and latency would count the wait.
        console.print(f"{', '.join(single)}: in-process, one request at a time, so --concurrency 1 "
                      "(give -j to change)", highlight=False)
    console.print(f"Starting a private gateway on 127.0.0.1 for {loaded.source} (hash {loaded.hash}), "
                  "with authentication and the usage ledger off for this instance ...", highlight=False)
    try:
        with private_gateway(private_config(loaded), say=_say) as url:
            results = run(url, None, concurrency or (1 if single else 4))
    except GatewayStartFailed as exc:
        reason = escape(str(exc))
        console.print(f"[bold red]The private gateway did not start: {reason}[/]", highlight=False)
        console.print("`interlock serve` with the same config shows the full error.")
        raise typer.Exit(code=1) from None
    console.print("Private gateway stopped.")
    return results


def _on_running_gateway(base_url: str, api_key: str | None, names: list[str], judges: list[str],
                        concurrency: int | None, run: Callable[[str, str | None, int], Results]) -> Results:
    listed = remote_names(base_url, api_key)
    if isinstance(listed, str):
        console.print(f"[yellow]{escape(listed)}; model names are not checked.[/]", highlight=False)
    else:
        check_names(names, listed, [], "--models")
        check_names(judges, listed, [], "--judge-model")
    exit_if_unservable(remote_preflight(base_url, [*names, *judges]))
    return run(base_url, api_key, concurrency or 4)


def evaluate(
    suite_path: Annotated[Path, typer.Argument(metavar="SUITE", help="suite: .jsonl, or .yaml naming one")],
    models: Annotated[str, typer.Option("--models", "-m", help="comma-separated models, e.g. a,b,c")],
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="gateway config (default: the embedded default)")
    ] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="use this running gateway instead of a private one")
    ] = None,
    api_key: Annotated[
        str | None, typer.Option("--api-key", envvar=ENV_API_KEY, show_default=False, help="for --base-url")
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option("--concurrency", "-j", min=1, show_default=False,
                     help="requests in flight per model (default 4; 1 with an in-process model)"),
    ] = None,
    cache: Annotated[
        Path | None, typer.Option("--cache", help="SQLite cache (default: eval-cache.sqlite in the data dir)")
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="results file (JSONL)")] = Path("results.jsonl"),
    judge_model: Annotated[
        str | None, typer.Option("--judge-model", help="the judge for llm_judge items")
    ] = None,
    # The default matches a deployment's default total timeout: a shorter one abandons (and retries)
    # answers the gateway is still producing, which a busy single-worker model never catches up on.
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, help="seconds per request, queueing in the gateway included")
    ] = 300.0,
) -> None:
    """Run a suite on models through the gateway; write results and print quality, latency and cost."""
    from interlock.evaluation import run_suite

    suite = _load_suite_or_exit(suite_path)
    names = _split(models)
    if not names:
        raise typer.BadParameter("name at least one model", param_hint="--models")
    if config is not None and base_url is not None:
        raise typer.BadParameter("--config starts a private gateway, --base-url uses a running one: give one")
    _check_scorers(suite, judge_model)
    cache_path = cache or default_cache_path()

    def run(url: str, key: str | None, concurrency: int) -> Results:
        """Called once the names are checked and the gateway is up."""
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        console.print(f"suite {suite.name} v{suite.version}: {len(suite.items)} items x {len(names)} "
                      f"model(s); cache {cache_path}", highlight=False)
        return run_suite(suite, names, base_url=url, api_key=key, concurrency=concurrency,
                         cache_path=cache_path, progress=True, judge_model=judge_model, timeout_s=timeout)

    judges = judge_models(suite, judge_model)
    try:
        if base_url is not None:
            results = _on_running_gateway(base_url, api_key, names, judges, concurrency, run)
        else:
            results = _on_private_gateway(config, names, judges, concurrency, run)
    except KeyboardInterrupt:
        console.print("Interrupted. Completions so far are cached: the same command resumes from there.")
        raise typer.Exit(code=130) from None
    results.write_jsonl(out)
    print_summary(results, Console())
    cached = sum(r.cached for r in results.items)
    failed = [r for r in results.items if r.error is not None]
    console.print(f"wrote {out}: {len(results.items)} results, {cached} from the cache, {len(failed)} failed")
    for model in results.header.models:
        own = [r for r in results.items if r.model == model]
        if own and all(r.error is not None for r in own):
            console.print(f"[bold red]{escape(model)}: every item failed; cause: {escape(str(own[0].error))}[/]",
                          highlight=False)
    if failed:
        first = failed[0]
        detail = escape(f"{first.model} / {first.item_id}: {first.error}")
        console.print(f"[yellow]first failure: {detail}[/]", highlight=False)
        console.print("A rerun retries failed items; the rest comes from the cache.")
        if len(failed) == len(results.items):
            raise typer.Exit(code=1)
