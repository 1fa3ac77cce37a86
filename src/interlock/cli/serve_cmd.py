"""``interlock serve``: load the config (or the embedded default) and run the gateway on uvicorn.

One worker runs in this process; several (``--workers``) run under uvicorn's supervisor, each
building its app through ``serve_workers.create_app``.
"""

from __future__ import annotations

import gc
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import typer
import uvicorn
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from interlock.accounting.stores import ENV_WORKERS
from interlock.api.app import build_app
from interlock.api.corked import CorkedHttpToolsProtocol
from interlock.cli.loading import load_or_exit
from interlock.cli.serve_workers import (
    FACTORY,
    available_cpus,
    check_shared_state,
    default_workers,
    worker_environment,
)
from interlock.config.schema import GatewayConfig
from interlock.gateway.runtime import Runtime
from interlock.observability.logging import configure_logging, startup_log, use_json_logs
from interlock.observability.metrics import MULTIPROC_ENV

console = Console(stderr=True)

# How the server runs, with one worker or several:
UVICORN_OPTIONS: dict[str, Any] = {
    "loop": "auto",
    "http": CorkedHttpToolsProtocol,  # the writes of one loop turn leave in one send (api/corked.py)
    "log_level": "warning",
    "access_log": False,  # the request log (observability/logging.py) says more, once
    # uvicorn's own logging set-up (dictConfig) would close the handlers configure_logging installed,
    # and with them the request log's batching; its loggers use those handlers instead
    "log_config": None,
    "server_header": False,  # no "server: uvicorn": scanners flag naming the server software
}


def serve(
    config: Path | None = typer.Option(
        None, "--config", "-c", envvar="INTERLOCK_CONFIG", help="YAML config; without it, the embedded default"),
    host: str | None = typer.Option(
        None, envvar="INTERLOCK_HOST", help="bind address (default from config, else 127.0.0.1)"),
    port: int | None = typer.Option(None, envvar="INTERLOCK_PORT", help="port (default from config, else 8080)"),
    log_level: str = typer.Option("info", help="log level"),
    log_format: str = typer.Option(
        "auto", envvar="INTERLOCK_LOG_FORMAT",
        help="start-up lines as JSON log records (json), for people (text), or json unless stderr is a terminal"),
    workers: int | None = typer.Option(
        None, "--workers", "-w", envvar=ENV_WORKERS, min=1,
        help="worker processes (default: one per CPU; one when an embedded model is served, as each "
        "worker loads its weights)"),
) -> None:
    """Start the gateway."""
    try:
        as_json = use_json_logs(log_format)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--log-format") from None
    configure_logging(log_level.upper())
    say = _json_say if as_json else console.print
    loaded = load_or_exit(config)
    server = loaded.config.server
    if config is None:
        if host not in (None, "127.0.0.1", "localhost", "::1"):
            console.print("[bold red]Without a config file the gateway only binds to 127.0.0.1 (it has no authentication).[/]")
            raise typer.Exit(code=2)
        host = "127.0.0.1"
    bind_host = host or server.host
    bind_port = port if port is not None else server.port
    say(f"[bold]interlock[/] config {loaded.source} (hash {loaded.hash})")
    for d in loaded.config.deployments:
        say(f"  model [cyan]{d.model}[/] via {d.name} ({d.type}, {d.perimeter}, context {d.context_window})")
    if not server.auth:
        say("[yellow]Running WITHOUT authentication: any client that can reach "
            f"{bind_host}:{bind_port} can use it.[/]")
    notice = admin_notice(server.admin_key_env, os.environ)
    if notice:
        say(f"[yellow]{notice}[/]")
    count = workers if workers is not None else default_workers(loaded.config if config else None, available_cpus())
    ready = f"Ready: the OpenAI-compatible API is at http://{bind_host}:{bind_port}/v1"
    if config is not None:
        ready += f"; watching {config} for changes (also SIGHUP and POST /admin/reload)"
    if count > 1:
        _serve_workers(count, loaded.config, config, bind_host, bind_port, log_level, as_json, ready, say)
        return
    os.environ[ENV_WORKERS] = "1"  # budgets and rate limits stay in this process's memory unless Redis is set
    say("Loading models (the first start can take a little while) ...")
    app = build_app(Runtime(loaded), say=lambda m: say(f"  {escape(m)}"), config_path=config, ready_message=ready)
    # Objects alive now (config, catalog, classifier) live for the whole process: keep the collector
    # off them, and collect less often (measured: ~50 us per request saved, benchmarks/gateway_overhead).
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
    uvicorn.run(app, host=bind_host, port=bind_port, **UVICORN_OPTIONS)


def _serve_workers(count: int, config: GatewayConfig, path: Path | None, host: str, port: int, log_level: str,
                   as_json: bool, ready: str, say: Callable[[str], None]) -> None:
    """Run ``count`` worker processes on one socket; each loads the config and its models itself."""
    embedded = [d.name for d in config.deployments if d.type == "llamacpp"]
    if embedded:
        say(f"[yellow]{count} workers each load the weights of {', '.join(embedded)} (memory x{count}).[/]")
    problem = check_shared_state(config)
    if problem:
        console.print(f"[bold red]cannot start:[/] {escape(problem)}")
        raise typer.Exit(code=1)
    shared = "Redis" if config.accounting.redis_url else "the database"
    say(f"Starting {count} worker processes; budgets and rate limits are shared through {shared}.")
    say("Loading models in each worker (the first start can take a little while) ...")
    os.environ.update(worker_environment(path, count, log_level, as_json, ready))
    # metrics add up across the workers through files here (prometheus-client's multiprocess mode)
    with tempfile.TemporaryDirectory(prefix="interlock-metrics-") as metrics_dir:
        os.environ[MULTIPROC_ENV] = metrics_dir
        uvicorn.run(FACTORY, factory=True, workers=count, host=host, port=port, **UVICORN_OPTIONS)


def _json_say(markup: str) -> None:
    """A start-up line as a JSON log record (rich markup stripped), like every other log line."""
    startup_log.info(Text.from_markup(markup).plain.strip())


def admin_notice(admin_key_env: str, environ: Mapping[str, str]) -> str | None:
    """What to say at start when the admin endpoints are off (no admin key in the environment)."""
    if environ.get(admin_key_env):
        return None
    return (f"Admin endpoints (/admin/*: deployments, config, reload) are off until {admin_key_env} is set "
            "to a secret; clients then send it as 'Authorization: Bearer <key>'.")
