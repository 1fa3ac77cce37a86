"""Starting the processes of a resilience benchmark: upstreams and ``interlock serve`` on loopback.

The process handling (start, wait until ready, stop) and the machine description are the overhead
benchmark's, imported; this module adds the upstream command line, the gateway config for a set
of deployments, and the summary statistics over passes.
"""

from __future__ import annotations

import os
import statistics
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "gateway_overhead"))
from bench import Process, free_port, machine, running  # noqa: E402

__all__ = ["HERE", "MODEL", "Process", "free_port", "machine", "running", "Upstream", "start_upstream",
           "start_gateway", "spread", "load_average", "source_tree"]

MODEL = "bench-model"


@dataclass(frozen=True)
class Upstream:
    """One deployment of the benchmark: its name in the config, and how its upstream behaves."""

    name: str
    median_ms: float
    sigma: float = 0.5
    fail_rate: float = 0.0
    reset_share: float = 0.5
    model: str = MODEL
    external: bool = False  # a vendor API outside the perimeter (else a self-hosted, open-weight replica)
    price_out: float = 0.2  # $/Mtok of output; only matters where a route compares costs


@contextmanager
def start_upstream(spec: Upstream, tmp: Path, seed: int) -> Iterator[Process]:
    port = free_port()
    argv = [sys.executable, str(HERE / "upstream.py"), "--port", str(port),
            "--median-ms", str(spec.median_ms),
            "--sigma", str(spec.sigma), "--fail-rate", str(spec.fail_rate),
            "--reset-share", str(spec.reset_share), "--seed", str(seed)]
    log = tmp / f"upstream-{spec.name}.log"
    with running(spec.name, "upstream", argv, port, None, log, dict(os.environ)) as p:
        yield p


def gateway_config(
    upstreams: Sequence[tuple[Upstream, int]], resilience: str, tmp: Path, extra: str = ""
) -> str:
    """A config with one openai-type deployment per upstream; ``resilience`` is the YAML flow mapping
    of the ``resilience:`` section. Ledger and audit log go to ``tmp``; no API keys."""
    lines = ["server: {auth: false}", "deployments:"]
    for spec, port in upstreams:
        lines += [
            f"  - name: {spec.name}",
            "    type: openai",
            f"    model: {spec.model}",
            "    vendor: bench",
            f"    perimeter: {'external' if spec.external else 'internal'}",
            f"    open_weight: {'false' if spec.external else 'true'}",
            "    context_window: 8192",
            f"    base_url: http://127.0.0.1:{port}/v1",
            f"    price: {{input_per_mtok: 0.1, output_per_mtok: {spec.price_out}}}",
        ]
    lines += [
        f"resilience: {resilience}",
        f"accounting: {{database_url: {tmp / 'ledger.db'}}}",
        f"audit_log: {tmp / 'audit.db'}",
    ]
    return "\n".join(lines) + "\n" + extra


@contextmanager
def start_gateway(
    label: str, config_text: str, tmp: Path, launcher: Sequence[str] | None = None
) -> Iterator[Process]:
    """``interlock serve`` on a free port (request log off), or ``launcher`` with the same arguments."""
    config = tmp / f"{label}.yaml"
    config.write_text(config_text)
    port = free_port()
    argv = [*(launcher or [sys.executable, "-m", "interlock.cli.main"]), "serve", "--config", str(config),
            "--port", str(port), "--log-level", "warning"]
    env = dict(os.environ, XDG_DATA_HOME=str(tmp / "data"))
    ready = f"http://127.0.0.1:{port}/readyz"
    with running(label, "gateway", argv, port, ready, tmp / f"gateway-{label}.log", env) as proc:
        yield proc


def spread(values: Sequence[float], fmt: str = ".0f") -> str:
    """Median with the range over passes: ``123 (110-140)``."""
    med = statistics.median(values)
    if len(values) < 2:
        return f"{med:{fmt}}"
    return f"{med:{fmt}} ({min(values):{fmt}}-{max(values):{fmt}})"


def source_tree() -> str:
    """Which interlock the gateway runs (``PYTHONPATH`` selects another tree), with its git commit."""
    import subprocess

    import interlock

    src = Path(interlock.__file__).resolve().parent.parent
    try:
        def git(*args: str) -> str:
            done = subprocess.run(["git", *args], cwd=src, capture_output=True, text=True, check=True)
            return done.stdout.strip()

        head, dirty = git("rev-parse", "--short", "HEAD"), git("status", "--porcelain", "--", ".")
    except (OSError, subprocess.CalledProcessError):
        return f"interlock from {src}"
    return f"interlock from {src} (git {head}{', with uncommitted changes' if dirty else ''})"


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f}/{five:.2f}"
