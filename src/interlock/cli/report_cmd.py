"""``interlock report eval``, and the options it shares with ``interlock calibrate`` (``calibrate_cmd.py``).

Both weigh categories by a traffic mix: the suite's own, a JSON file (``--mix``), or the usage
ledger's requests per category (``--mix-from-ledger``), which also gives the monthly volume.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import yaml
from rich.console import Console
from rich.markup import escape

from interlock.catalog.catalog import Catalog
from interlock.cli.loading import load_or_exit
from interlock.errors import ModelNotFound
from interlock.storage.database import ENV_DB_URL, default_sqlite_path, is_postgres_url, open_database
from interlock.accounting.ledger import DAYS_PER_MONTH, SqlLedgerStore, monthly_projection

if TYPE_CHECKING:
    from interlock.evaluation import Results

# The evaluation and report packages (numpy, matplotlib) are imported where used, so that the
# other commands start without them.

report_app = typer.Typer(help="Reports built from evaluation results.", no_args_is_help=True)
console = Console(soft_wrap=True)  # sentences are left to the terminal to wrap
_err = Console(stderr=True, soft_wrap=True)

REPORT, POLICY = Path("report.html"), Path("policy.yaml")
ResultsArg = Annotated[Path, typer.Argument(metavar="RESULTS", help="results file from `interlock eval`")]
TargetOption = Annotated[
    float, typer.Option("--target", help="quality floor: fraction of the best model's quality per category")
]
MixOption = Annotated[
    Path | None,
    typer.Option("--mix", help='traffic mix, e.g. {"extraction": 3, "code": 1}, or a cost mix file'),
]
LedgerMixOption = Annotated[
    bool, typer.Option("--mix-from-ledger", help="weigh categories by the usage ledger's traffic")
]
DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar=ENV_DB_URL,
        show_default=False,
        help="ledger: SQLite path or postgresql:// URL (default: the config's, else the data dir's file)",
    ),
]
VolumeOption = Annotated[
    float | None, typer.Option("--requests-per-month", min=0, help="volume (default: the ledger's run rate)")
]
OpenOption = Annotated[
    str | None, typer.Option("--open-models", help="comma-separated open-weight models (default: catalog's)")
]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="gateway config: catalog and ledger (default: embedded)")
]
BaselineOption = Annotated[
    str | None, typer.Option("--baseline", help="model to compare with (default: the best overall model)")
]


@dataclass(frozen=True)
class TrafficMix:
    """Category weights (None: the suite's own mix), where they came from, and the ledger's volume."""

    weights: dict[str, float] | None
    source: str
    requests_per_month: float | None = None


def read_results(path: Path) -> Results:
    from interlock.evaluation import Results, ResultsFileError

    try:
        return Results.read_jsonl(path)
    except ResultsFileError as exc:
        _err.print(f"[bold red]{escape(str(exc))}[/]", highlight=False)
        raise typer.Exit(code=1) from None


def check_target(target: float) -> None:
    if not 0 < target <= 1:
        raise typer.BadParameter(f"must be in (0, 1], got {target}", param_hint="--target")


def mix_from_file(path: Path) -> TrafficMix:
    """``{category: weight}`` in JSON or YAML, or ``interlock costs project``'s mix file (its shares)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise typer.BadParameter(f"{path}: {exc}", param_hint="--mix") from None
    if isinstance(data, dict) and isinstance(data.get("categories"), dict):  # `costs project`'s mix file
        data = {c: v.get("share") if isinstance(v, dict) else v for c, v in data["categories"].items()}
    if not isinstance(data, dict) or not data:
        raise typer.BadParameter(f"{path}: expected an object of category weights", param_hint="--mix")
    for category, weight in data.items():
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
            raise typer.BadParameter(f"{path}: {category}: weight must be a number >= 0", param_hint="--mix")
    return TrafficMix({str(c): float(w) for c, w in data.items()}, f"the traffic mix in {path.name}")


def note_uncovered(traffic: TrafficMix, results: Results) -> None:
    """Say how much of the mix falls on categories the results do not cover (calibration ignores it)."""
    if not traffic.weights:
        return
    evaluated = {item.category for item in results.items}
    missing = {c: w for c, w in traffic.weights.items() if c not in evaluated and w > 0}
    total = sum(traffic.weights.values())
    if missing and total:
        share = sum(missing.values()) / total
        _err.print(f"{share:.0%} of {traffic.source} is in categories the suite does not cover "
                   f"({', '.join(sorted(missing))}); shares are of the covered traffic.", markup=False)


def ledger_url(db: str | None, config: Path | None) -> str:
    """``--db`` (or its env var), else the config's ledger, else the default file; it must exist already."""
    url = db or (load_or_exit(config).config.accounting.database_url if config else None)
    if url and is_postgres_url(url):
        return url
    path = Path(url.removeprefix("sqlite:///")) if url else default_sqlite_path()
    if not path.is_file():
        raise typer.BadParameter(f"no usage ledger at {path}", param_hint="--db")
    return str(path)


def mix_from_ledger(url: str) -> TrafficMix:
    db = open_database(url)
    try:
        store = SqlLedgerStore(db)
        rows = store.spend(by="category")
        projection = monthly_projection(store, now=datetime.now(UTC))
    finally:
        db.close()
    weights = {row.group: float(row.requests) for row in rows if row.group}
    unclassified = sum(row.requests for row in rows if not row.group)
    if not weights:
        _err.print("[bold red]The ledger has no classified requests (sent through a route); give --mix.[/]")
        raise typer.Exit(code=1)
    total = int(sum(weights.values()))
    if unclassified:
        _err.print(f"{unclassified:,} ledger requests went straight to a model: no category, not counted.")
    monthly = None
    if projection.requests:
        monthly = float(projection.requests * DAYS_PER_MONTH / projection.observed_days)
    return TrafficMix(weights, f"the ledger's traffic ({total:,} classified requests)", monthly)


def traffic_mix(mix: Path | None, from_ledger: bool, db: str | None, config: Path | None) -> TrafficMix:
    if mix is not None and from_ledger:
        raise typer.BadParameter("give --mix or --mix-from-ledger, not both")
    if mix is not None:
        return mix_from_file(mix)
    if from_ledger:
        return mix_from_ledger(ledger_url(db, config))
    return TrafficMix(None, "the suite's category mix")


def open_models_for(results: Results, named: str | None, config: Path | None) -> list[str] | None:
    """``--open-models``, else the evaluated models the catalog marks ``open_weight`` (None if none)."""
    if named is not None:
        names = list(dict.fromkeys(n.strip() for n in named.split(",") if n.strip()))
        missing = [n for n in names if n not in results.models]
        if missing:
            _err.print(f"[yellow]not in the results: {escape(', '.join(missing))}[/]")
        return names or None
    loaded = load_or_exit(config)
    catalog = Catalog(loaded.config)
    found = []
    for model in results.models:
        try:
            if catalog.resolve(model).primary.open_weight:
                found.append(model)
        except ModelNotFound:
            continue
    where = loaded.source if config else "the embedded default"
    listed = ", ".join(found) or "none"
    _err.print(f"open models (open_weight in {where}): {listed}; --open-models to change", markup=False)
    return found or None


@report_app.command("eval")
def report_eval(
    results_path: ResultsArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="HTML file; the Markdown goes beside it")] = REPORT,
    target: TargetOption = 0.95,
    mix: MixOption = None,
    from_ledger: LedgerMixOption = False,
    db: DbOption = None,
    requests_per_month: VolumeOption = None,
    open_models: OpenOption = None,
    config: ConfigOption = None,
    baseline: BaselineOption = None,
) -> None:
    """Write the self-contained HTML report and its Markdown summary from a results file."""
    from interlock.reports import ReportOptions, build_evaluation_report

    check_target(target)
    results = read_results(results_path)
    if baseline is not None and baseline not in results.models:
        raise typer.BadParameter(
            f"{baseline!r} is not among the evaluated models ({', '.join(results.models)})", param_hint="--baseline"
        )
    traffic = traffic_mix(mix, from_ledger, db, config)
    note_uncovered(traffic, results)
    options = ReportOptions(
        target=target,
        mix=traffic.weights,
        mix_source=traffic.source,
        open_models=open_models_for(results, open_models, config),
        baseline=baseline,
        requests_per_month=requests_per_month or traffic.requests_per_month,
    )
    # Input calibration cannot use (no scored item, a mix on no evaluated task) becomes a note in the
    # report, which is still worth writing: the quality tables and charts stand on their own.
    report = build_evaluation_report(results, options)
    html_path, markdown_path = report.write(out)
    console.print(report.headline, markup=False, highlight=False)
    console.print(f"wrote {html_path} and {markdown_path}")
