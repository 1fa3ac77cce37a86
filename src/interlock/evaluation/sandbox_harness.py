"""The program that runs inside the code sandbox: limit itself, refuse sockets, run solution and tests.

Standalone on purpose (stdlib only, no interlock imports): the sandbox starts it by path under
``python -I`` in a throwaway directory holding ``solution.py`` and ``tests.py``. It writes
``result.json`` after every test so a run killed half-way still reports what passed.
"""

from __future__ import annotations

import json
import os
import resource
import socket
import sys
import traceback
from typing import Any


def apply_limits(cpu_seconds: int, memory_bytes: int, file_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def block_network() -> None:
    """A guard against accidents, not adversaries: sockets refuse to connect or resolve."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OSError("network access is disabled in the evaluation sandbox")

    for name in ("connect", "connect_ex", "bind", "sendto", "sendmsg"):
        setattr(socket.socket, name, refuse)
    socket.create_connection = refuse
    socket.getaddrinfo = refuse


def describe(exc: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename in ("solution.py", "tests.py")]
    where = (
        f" at {frames[-1].filename}:{frames[-1].lineno}: {(frames[-1].line or '').strip()}" if frames else ""
    )
    message = str(exc)
    return f"{type(exc).__name__}{': ' + message if message else ''}{where}"[:300]


def write(result: dict[str, Any]) -> None:
    with open("result.json.tmp", "w", encoding="utf-8") as fh:
        json.dump(result, fh)
    os.replace("result.json.tmp", "result.json")


def run(namespace: dict[str, Any], result: dict[str, Any]) -> None:
    try:
        with open("solution.py", encoding="utf-8") as fh:
            exec(compile(fh.read(), "solution.py", "exec"), namespace)
    except BaseException as exc:  # the model's code may raise anything, SystemExit included
        result.update(total=1, error="solution: " + describe(exc))
        return
    before = set(namespace)
    try:
        with open("tests.py", encoding="utf-8") as fh:
            exec(compile(fh.read(), "tests.py", "exec"), namespace)
    except BaseException as exc:
        result.update(total=1, error="tests: " + describe(exc))
        return
    tests = [(n, f) for n, f in namespace.items() if n not in before and n.startswith("test") and callable(f)]
    if not tests:
        result.update(total=1, passed=1)
        return
    result["total"] = len(tests)
    write(result)
    for name, test in tests:
        try:
            test()
            result["passed"] += 1
        except BaseException as exc:
            result["failures"].append(f"{name}: {describe(exc)}")
        write(result)


def main() -> None:
    limits = json.loads(sys.argv[1])
    apply_limits(limits["cpu_seconds"], limits["memory_bytes"], limits["file_bytes"])
    block_network()
    result: dict[str, Any] = {"passed": 0, "total": 0, "failures": [], "error": None}
    write(result)
    run({"__name__": "__solution__"}, result)
    write(result)


if __name__ == "__main__":
    main()
