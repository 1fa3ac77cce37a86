"""Running untrusted Python against unit tests in a subprocess with time, memory and output limits.

Each run gets a fresh temporary directory, ``python -I`` (no user site, no PYTHON* variables), a
minimal environment whose proxies point nowhere, CPU-time/address-space/file-size rlimits set by
the child itself, sockets refused, and a wall-clock timeout that kills the whole process group.
This stops accidents (infinite loops, memory blow-ups, stray network calls); it is not a security
boundary against hostile code, which belongs in a container or VM.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

HARNESS = Path(__file__).with_name("sandbox_harness.py")
Outcome = Literal["passed", "failed", "timeout", "cpu_limit", "output_limit", "killed", "error"]
_SIGNAL_OUTCOMES: dict[int, Outcome] = {
    signal.SIGXCPU: "cpu_limit",
    signal.SIGXFSZ: "output_limit",
    signal.SIGKILL: "killed",
}


@dataclass(frozen=True, slots=True)
class SandboxLimits:
    cpu_seconds: int = 5
    memory_mb: int = 512
    wall_seconds: float = 10.0
    output_kb: int = 1024


@dataclass(frozen=True, slots=True)
class TestRun:
    """What happened: tests passed out of total, how the process ended, and the first problem."""

    passed: int
    total: int
    outcome: Outcome
    detail: str = ""
    failures: list[str] = field(default_factory=list)

    @property
    def fraction(self) -> float:
        return self.passed / self.total if self.total else 0.0


def _environment(workdir: str) -> dict[str, str]:
    dead_proxy = "http://127.0.0.1:9"  # discard port: anything honouring proxies fails fast
    return {
        "PATH": os.defpath,
        "HOME": workdir,
        "TMPDIR": workdir,
        "LANG": "C.UTF-8",
        "http_proxy": dead_proxy,
        "https_proxy": dead_proxy,
        "all_proxy": dead_proxy,
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
    }


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _tail(path: Path, limit: int = 300) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return text[-limit:].strip()


def run_tests(solution: str, tests: str, limits: SandboxLimits = SandboxLimits()) -> TestRun:
    """Run ``solution`` then ``tests`` (``test*`` functions, or top-level asserts) in the sandbox."""
    with tempfile.TemporaryDirectory(prefix="interlock-sandbox-") as workdir:
        work = Path(workdir)
        (work / "solution.py").write_text(solution, encoding="utf-8")
        (work / "tests.py").write_text(tests, encoding="utf-8")
        config = {
            "cpu_seconds": limits.cpu_seconds,
            "memory_bytes": limits.memory_mb * 1024 * 1024,
            "file_bytes": limits.output_kb * 1024,
        }
        command = [sys.executable, "-I", "-B", str(HARNESS), json.dumps(config)]
        timed_out = False
        with open(work / "output.txt", "wb") as output:
            proc = subprocess.Popen(
                command,
                cwd=work,
                env=_environment(workdir),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so a timeout kills any children too
            )
            try:
                returncode = proc.wait(timeout=limits.wall_seconds)
            except subprocess.TimeoutExpired:
                timed_out = True
                _kill_group(proc.pid)
                returncode = proc.wait()
            _kill_group(proc.pid)
        return _interpret(work, returncode, timed_out, limits)


def _interpret(work: Path, returncode: int, timed_out: bool, limits: SandboxLimits) -> TestRun:
    try:
        result = json.loads((work / "result.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        result = None
    if result is None:
        return TestRun(0, 0, "error", f"exit {returncode}: {_tail(work / 'output.txt')}")
    passed, total = int(result["passed"]), int(result["total"])
    failures = list(result.get("failures") or [])
    problem = result.get("error") or (failures[0] if failures else "")
    if timed_out:
        return TestRun(
            passed, total, "timeout", f"killed after {limits.wall_seconds:g}s wall clock", failures
        )
    if returncode < 0:
        return TestRun(
            passed,
            total,
            _SIGNAL_OUTCOMES.get(-returncode, "killed"),
            f"killed by signal {signal.Signals(-returncode).name}",
            failures,
        )
    if returncode != 0:
        return TestRun(passed, total, "error", f"exit {returncode}: {_tail(work / 'output.txt')}", failures)
    outcome: Outcome = "passed" if total and passed == total else "failed"
    return TestRun(passed, total, outcome, problem, failures)
