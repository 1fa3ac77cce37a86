"""Several worker processes for ``interlock serve``: how many, and the app each worker builds.

uvicorn's supervisor binds the socket once and spawns the workers; each imports ``create_app``
(an app factory) and builds its own runtime from the config the parent validated, which it finds
in the environment the parent set (``worker_environment``). The workers share budgets, rate
limits, keys, the ledger, the audit chain and config changes through the database (and Redis when
configured): see ``accounting/stores.py``, ``compliance/audit.py`` and ``config/reload.py``.
"""

from __future__ import annotations

import atexit
import gc
import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path

from prometheus_client.multiprocess import mark_process_dead
from rich.console import Console
from rich.markup import escape
from rich.text import Text
from starlette.types import ASGIApp

from interlock.accounting.stores import ENV_WORKERS
from interlock.config.schema import GatewayConfig
from interlock.observability.logging import configure_logging, startup_log
from interlock.observability.metrics import MULTIPROC_ENV

ENV_CONFIG = "INTERLOCK_CONFIG"
ENV_LOG_LEVEL = "INTERLOCK_LOG_LEVEL"
ENV_LOG_FORMAT = "INTERLOCK_LOG_FORMAT"
ENV_READY = "INTERLOCK_READY_MESSAGE"
FACTORY = "interlock.cli.serve_workers:create_app"


def available_cpus(cgroup_root: Path = Path("/sys/fs/cgroup")) -> int:
    """CPUs this process may use: its affinity mask, capped by a cgroup v2 CPU quota (a container's limit)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    try:
        quota, period = (cgroup_root / "cpu.max").read_text().split()[:2]
        if quota != "max":
            cpus = min(cpus, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cpus)


def default_workers(config: GatewayConfig | None, cpus: int) -> int:
    """One per CPU; but one when an embedded model is served (each worker would load its weights)."""
    if config is None or any(d.type == "llamacpp" for d in config.deployments):
        return 1
    return cpus


def worker_environment(
    config: Path | None, workers: int, log_level: str, as_json: bool, ready: str
) -> dict[str, str]:
    """What the workers read at start: the config file (absent: the embedded default) and how to log."""
    env = {ENV_WORKERS: str(workers), ENV_LOG_LEVEL: log_level.upper(), ENV_LOG_FORMAT: "json" if as_json else "text",
           ENV_READY: ready, ENV_CONFIG: str(config.absolute()) if config is not None else ""}
    return env


def check_shared_state(config: GatewayConfig, environ: Mapping[str, str] = os.environ) -> str | None:
    """Open what the workers will share, once, before they start: a problem is one clear line here
    rather than every worker failing at start (and uvicorn's supervisor restarting it, again and again).
    Opening the database also applies its migrations before the workers race to."""
    from interlock.compliance.audit import audit_location, describe_location, open_audit_log
    from interlock.storage.database import ENV_DB_URL, open_database

    acc = config.accounting
    url = acc.database_url or environ.get(ENV_DB_URL)
    try:
        if config.server.auth or acc.ledger:
            open_database(url).close()
    except Exception as exc:  # each backend has its own errors; all mean the same here
        return f"the database {describe_location(url or 'default SQLite file')} cannot be opened: {_first_line(exc)}"
    location = audit_location(config, environ)
    try:
        open_audit_log(location).close()
    except Exception as exc:
        return f"the audit log at {describe_location(location)} cannot be opened: {_first_line(exc)}"
    if acc.redis_url:
        from redis import Redis, RedisError

        client = Redis.from_url(acc.redis_url, socket_connect_timeout=5, socket_timeout=5)
        try:
            client.ping()
        except (RedisError, OSError) as exc:
            return f"Redis (accounting.redis_url) does not answer: {type(exc).__name__}: {_first_line(exc)}"
        finally:
            client.close()
    return None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def worker_say(as_json: bool, console: Console | None = None) -> Callable[[str], None]:
    """Start-up lines of one worker, marked with its pid (each worker says its own): a ``worker_pid``
    field of the JSON record, or a ``[worker PID]`` prefix for people."""
    pid = os.getpid()
    if as_json:
        fields = {"fields": {"worker_pid": pid}}
        return lambda markup: startup_log.info(Text.from_markup(markup).plain.strip(), extra=fields)
    out = console or Console(stderr=True)
    return lambda markup: out.print(escape(f"[worker {pid}] ") + markup)


def create_app(environ: Mapping[str, str] | None = None) -> ASGIApp:
    """The app of one worker (uvicorn calls this in each worker process)."""
    from interlock.api.app import build_app
    from interlock.cli.loading import load_or_exit
    from interlock.gateway.runtime import Runtime

    env = os.environ if environ is None else environ
    configure_logging(env.get(ENV_LOG_LEVEL, "INFO"))
    if env.get(MULTIPROC_ENV):  # this worker's live gauges leave the sum when it exits
        atexit.register(mark_process_dead, os.getpid())
    say = worker_say(env.get(ENV_LOG_FORMAT) == "json")
    config_path = Path(env[ENV_CONFIG]) if env.get(ENV_CONFIG) else None
    loaded = load_or_exit(config_path)
    app = build_app(Runtime(loaded), say=lambda m: say(escape(m)), config_path=config_path,
                    ready_message=env.get(ENV_READY) or None)
    # as in a single process: keep the collector off what lives as long as the worker
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
    return app
