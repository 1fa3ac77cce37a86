"""``interlock config ...``: check a config file, print its JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from interlock.cli.loading import load_or_exit
from interlock.config.schema import GatewayConfig

config_app = typer.Typer(help="Check and describe gateway config files.", no_args_is_help=True)
out = Console()


@config_app.command("check")
def check(file: Path = typer.Argument(..., help="YAML config file")) -> None:
    """Validate FILE; print every error with its path in the file and exit non-zero if any."""
    loaded = load_or_exit(file)
    cfg = loaded.config
    out.print(
        f"[green]ok[/] {file}: {len(cfg.deployments)} deployments, "
        f"{len({d.model for d in cfg.deployments})} models, {len(cfg.aliases)} aliases; config hash {loaded.hash}"
    )


@config_app.command("schema")
def schema() -> None:
    """Print the JSON Schema of the config file (for editor completion and validation)."""
    print(json.dumps(GatewayConfig.model_json_schema(), indent=2))
