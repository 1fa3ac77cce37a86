"""Evaluations launched from the console: one at a time, bounded, cancellable, polled for progress.

A run sends a suite (a shipped one, or a file in ``<data dir>/suites``) through this gateway's own
HTTP API with the evaluation runner, like ``interlock eval --base-url``; with authentication on it
uses a key of team ``console-eval`` made for the run and revoked when it ends. Results and the
report land in ``<data dir>/console-evals/<run id>/``.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from interlock.accounting.keys import CreatedKey, SqlKeyStore
from interlock.evaluation.progress import NoProgress
from interlock.storage.database import Database, default_sqlite_path

log = logging.getLogger("interlock.console")

MAX_CALLS = 2000  # items x models of one run
CONCURRENCY = 4
EVAL_TEAM = "console-eval"


def runs_dir() -> Path:
    return default_sqlite_path().parent / "console-evals"


def suites() -> dict[str, Path]:
    """Suites a run may use, by name: the shipped ones and ``<data dir>/suites/*.jsonl|yaml``."""
    found: dict[str, Path] = {}
    shipped = Path(str(resources.files("interlock") / "data" / "suites"))
    for folder in (shipped, default_sqlite_path().parent / "suites"):
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                if path.suffix in (".jsonl", ".yaml", ".yml"):
                    found.setdefault(path.stem, path)
    return found


@dataclass
class EvalRun:
    run_id: str
    suite: str
    models: list[str]
    total: int = 0
    done: int = 0
    failed: int = 0
    status: str = "running"  # running | done | failed | cancelled
    error: str | None = None
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    summary: list[dict[str, Any]] = field(default_factory=list)
    report: bool = False
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "suite": self.suite,
            "models": self.models,
            "total": self.total,
            "done": self.done,
            "failed": self.failed,
            "status": self.status,
            "error": self.error,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "summary": self.summary,
            "report": self.report,
        }


class _Progress(NoProgress):
    """The runner's progress seam, counting into the run the page polls."""

    def __init__(self, run: EvalRun) -> None:
        self.run = run

    def add_work(self, model: str, count: int) -> None:
        self.run.total += count

    def advance(self, model: str, *, cached: bool, failed: bool) -> None:
        self.run.done += 1
        self.run.failed += int(failed)


class EvalRuns:
    def __init__(self) -> None:
        self.runs: dict[str, EvalRun] = {}
        self._revoking: set[asyncio.Future[bool]] = set()

    def active(self) -> EvalRun | None:
        return next((r for r in self.runs.values() if r.status == "running"), None)

    async def launch(
        self,
        suite_name: str,
        models: list[str],
        *,
        known: Collection[str],
        base_url: str,
        db: Database | None,
        auth: bool,
    ) -> EvalRun:
        """Start a run of ``suite_name`` on ``models`` (each a ``known`` name); ValueError if not."""
        from interlock.evaluation import SuiteError, load_suite

        if self.active() is not None:
            raise ValueError("an evaluation is already running; cancel it or wait for it to end")
        path = suites().get(suite_name)
        if path is None:
            raise ValueError(f"unknown suite {suite_name!r}; known: {', '.join(suites())}")
        models = list(dict.fromkeys(m for m in models if m))
        if not models:
            raise ValueError("choose at least one model")
        unknown = [m for m in models if m not in known]
        if unknown:
            raise ValueError(f"unknown model {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        try:
            suite = load_suite(path)
        except SuiteError as exc:
            raise ValueError(f"suite {suite_name}: {exc}") from None
        if len(suite.items) * len(models) > MAX_CALLS:
            raise ValueError(
                f"{len(suite.items)} items x {len(models)} models is over the console's "
                f"limit of {MAX_CALLS} calls; run `interlock eval` for larger runs"
            )
        if auth and db is None:
            raise ValueError("authentication is on but there is no key database to make a run key in")
        run = EvalRun("ev_" + secrets.token_hex(6), suite.name, models)
        self.runs[run.run_id] = run
        # The run's key exists before its task does, so the task's end (however early) revokes it.
        store = SqlKeyStore(db) if auth and db is not None else None
        created = await asyncio.to_thread(store.create, EVAL_TEAM) if store else None
        run.task = asyncio.get_running_loop().create_task(self._run(run, suite, base_url, created))
        run.task.add_done_callback(lambda task: self._ended(run, store, created))
        return run

    def _ended(self, run: EvalRun, store: SqlKeyStore | None, created: CreatedKey | None) -> None:
        """Also called when the task was cancelled before it ever ran."""
        if run.status == "running":
            run.status = "cancelled"
        run.finished_at = run.finished_at or time.time()
        if store is not None and created is not None:
            task = asyncio.get_running_loop().run_in_executor(None, store.revoke, created.key.key_id)
            self._revoking.add(task)
            task.add_done_callback(self._revoking.discard)

    def cancel(self, run_id: str) -> bool:
        run = self.runs.get(run_id)
        if run is None or run.task is None or run.status != "running":
            return False
        run.task.cancel()
        return True

    async def _run(self, run: EvalRun, suite: Any, base_url: str, created: CreatedKey | None) -> None:
        from interlock.evaluation import run_suite_async

        try:
            results = await run_suite_async(
                suite,
                run.models,
                base_url=base_url,
                api_key=created.secret if created else None,
                concurrency=CONCURRENCY,
                cache_path=None,
                progress=_Progress(run),
                timeout_s=120.0,
            )
            await asyncio.to_thread(_write, results, runs_dir() / run.run_id, run)
            run.status = "done"
        except asyncio.CancelledError:
            run.status = "cancelled"
        except Exception as exc:  # the runner's and scorers' errors vary; the page shows the cause
            log.warning("console evaluation %s failed: %s", run.run_id, type(exc).__name__)
            run.status, run.error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            run.finished_at = time.time()


def _write(results: Any, folder: Path, run: EvalRun) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    results.write_jsonl(folder / "results.jsonl")
    for model in run.models:
        own = [r for r in results.items if r.model == model]
        scored = [r.score for r in own if r.score is not None]
        costs = [r.cost_usd for r in own if r.cost_usd is not None]
        run.summary.append(
            {
                "model": model,
                "items": len(own),
                "errors": sum(r.error is not None for r in own),
                "mean_score": sum(scored) / len(scored) if scored else None,
                "cost_usd": sum(costs) if costs else None,
            }
        )
    try:
        from interlock.reports import ReportOptions, build_evaluation_report

        build_evaluation_report(results, ReportOptions()).write(folder / "report.html")
        run.report = True
    except Exception as exc:  # a report needs enough data (models, categories); the summary still stands
        run.error = f"no report: {exc}"


def report_file(run_id: str) -> Path | None:
    if not run_id.startswith("ev_") or not run_id[3:].isalnum():
        return None
    path = runs_dir() / run_id / "report.html"
    return path if path.is_file() else None
