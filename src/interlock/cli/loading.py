"""Loading the config for a CLI command: the given file or the embedded default; errors end the command."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from interlock.config.defaults import default_config
from interlock.config.load import ConfigError, LoadedConfig, load_config

_err = Console(stderr=True)


def load_or_exit(path: Path | None) -> LoadedConfig:
    try:
        return load_config(path) if path else default_config()
    except ConfigError as exc:
        _err.print(f"[bold red]{exc.source}: {len(exc.problems)} error(s)[/]")
        for problem in exc.problems:
            _err.print(f"  {problem}", markup=False, highlight=False)
        raise typer.Exit(code=1) from None
