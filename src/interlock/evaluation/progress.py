"""Showing a run's progress: a rich bar per model, or nothing (for tests and piped output)."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn


class RunProgress(Protocol):
    def __enter__(self) -> RunProgress: ...

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def add_work(self, model: str, count: int) -> None: ...

    def advance(self, model: str, *, cached: bool, failed: bool) -> None: ...


class NoProgress:
    def __enter__(self) -> NoProgress:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def add_work(self, model: str, count: int) -> None:
        return None

    def advance(self, model: str, *, cached: bool, failed: bool) -> None:
        return None


class RichProgress:
    """One bar per model on stderr, with counts of cached and failed items."""

    def __init__(self, console: Console | None = None) -> None:
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("cached {task.fields[cached]}  failed {task.fields[failed]}"),
            TimeElapsedColumn(),
            console=console or Console(stderr=True),
        )
        self.tasks: dict[str, TaskID] = {}
        self.counts: dict[str, tuple[int, int]] = {}
        self.totals: dict[str, int] = {}

    def __enter__(self) -> RichProgress:
        self.progress.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.progress.stop()

    def add_work(self, model: str, count: int) -> None:
        self.totals[model] = self.totals.get(model, 0) + count
        if model not in self.tasks:
            self.tasks[model] = self.progress.add_task(model, total=count, cached=0, failed=0)
            self.counts[model] = (0, 0)
        else:
            self.progress.update(self.tasks[model], total=self.totals[model])

    def advance(self, model: str, *, cached: bool, failed: bool) -> None:
        hits, failures = self.counts[model]
        self.counts[model] = (hits + cached, failures + failed)
        self.progress.update(self.tasks[model], advance=1, cached=hits + cached, failed=failures + failed)
