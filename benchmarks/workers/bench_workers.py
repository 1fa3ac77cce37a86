"""Worker scaling benchmark: requests/s of ``interlock serve --workers 1`` against ``--workers N``.

Reuses the overhead benchmark's processes (``benchmarks/gateway_overhead``): its mock upstream and
its closed-loop load generator run as they are, and its config (one openai deployment on the mock,
no API keys; the ledger and the audit log on, in SQLite files shared by the workers). Each pass
measures every worker count back to back, so background load hits them alike; medians over passes.
The gateways' CPU time is the sum over their worker processes, read from /proc over the window.

Run: ``python benchmarks/workers/bench_workers.py`` (about a minute with the defaults).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import orjson

OVERHEAD = Path(__file__).resolve().parent.parent / "gateway_overhead"
sys.path.insert(0, str(OVERHEAD))

from bench import Process, free_port, gateway_config, machine, request_body, running


def worker_pids(supervisor: int) -> list[int]:
    """The worker processes uvicorn's supervisor spawned (its children, minus multiprocessing's helpers)."""
    children: list[int] = []
    for task in Path(f"/proc/{supervisor}/task").iterdir():
        children += [int(p) for p in (task / "children").read_text().split()]
    workers = []
    for pid in children:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        if b"resource_tracker" not in cmdline:
            workers.append(pid)
    return workers or [supervisor]  # one worker runs in the supervisor's own process


def measure(gateway: Process, args: argparse.Namespace, concurrency: int) -> dict[str, Any]:
    watch = [a for i, pid in enumerate(worker_pids(gateway.popen.pid)) for a in ("--watch", f"worker{i}={pid}")]
    argv = [sys.executable, str(OVERHEAD / "loadgen.py"), "--port", str(gateway.port),
            "--body", request_body(False).decode(), "--concurrency", str(concurrency),
            "--warmup", str(args.warmup), "--duration", str(args.duration), *watch]
    out = subprocess.run(argv, capture_output=True, check=True, timeout=args.warmup + args.duration + 60)
    result: dict[str, Any] = orjson.loads(out.stdout)
    if result["failures"]:
        raise SystemExit(f"{gateway.label}: {result['failures']} failed requests (first: {result['first_failure']})")
    cpu = result["cpu_ms_per_request"]
    result["gateway_cpu_ms"] = sum(v for k, v in cpu.items() if k.startswith("worker"))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2])
    parser.add_argument("--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[64])
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--duration", type=float, default=4.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args()
    print(f"machine: {machine()}, load average {os.getloadavg()[0]:.2f}", flush=True)
    results: dict[tuple[int, int], list[dict[str, Any]]] = {}
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="interlock-workers-")))
        env = {**os.environ, "XDG_DATA_HOME": str(tmp / "data")}  # ledger and audit files of this run only
        env.pop("INTERLOCK_DB_URL", None)
        mock_port = free_port()
        mock_argv = [sys.executable, str(OVERHEAD / "mock_upstream.py"), "--port", str(mock_port)]
        stack.enter_context(running("mock", "mock", mock_argv, mock_port, None, tmp / "mock.log", env))
        config = tmp / "gateway.yaml"
        config.write_text(gateway_config(mock_port))
        gateways = {}
        for n in args.workers:
            port = free_port()
            argv = [sys.executable, "-m", "interlock.cli.main", "serve", "--config", str(config), "--port", str(port),
                    "--workers", str(n), "--log-level", "warning"]
            gateways[n] = stack.enter_context(running(f"{n} worker(s)", "gateway", argv, port,
                                                      f"http://127.0.0.1:{port}/readyz", tmp / f"gw{n}.log", env))
        time.sleep(2)  # every worker of every gateway has started (readyz answered from one of them)
        for p in range(args.passes):
            for c in args.concurrency:
                for n, gateway in gateways.items():
                    res = measure(gateway, args, c)
                    results.setdefault((n, c), []).append(res)
                    print(f"  pass {p + 1} c={c:<3} workers={n}: {res['rps']:7.0f} req/s  p50 {res['p50_ms']:.2f} ms"
                          f"  gateway CPU {res['gateway_cpu_ms']:.3f} ms/req", file=sys.stderr, flush=True)
    print(f"\n{args.passes} passes of {args.duration:g} s after {args.warmup:g} s warm-up; medians (range)\n")
    # scaling: ratio of the medians, and the median of each pass's own ratio (the two ran back to back,
    # so a pass's ratio is less moved by background load that drifts between passes)
    print(f"{'conc':>4} {'workers':>7} {'req/s':>8} {'(range)':>13} {'p50 ms':>8} {'gw CPU ms/req':>14} "
          f"{'scaling':>8} {'paired':>7}")
    for c in args.concurrency:
        base_runs = results[(args.workers[0], c)]
        base = statistics.median(r["rps"] for r in base_runs)
        for n in args.workers:
            runs = results[(n, c)]
            rps = [r["rps"] for r in runs]
            paired = statistics.median(r["rps"] / b["rps"] for r, b in zip(runs, base_runs, strict=True))
            print(f"{c:>4} {n:>7} {statistics.median(rps):>8.0f} {f'{min(rps):.0f}-{max(rps):.0f}':>13} "
                  f"{statistics.median(r['p50_ms'] for r in runs):>8.2f} "
                  f"{statistics.median(r['gateway_cpu_ms'] for r in runs):>14.3f} {statistics.median(rps) / base:>7.2f}x"
                  f" {paired:>6.2f}x")
    if args.json:
        args.json.write_text(orjson.dumps({"machine": machine(), "raw": {f"{n}|{c}": v for (n, c), v in results.items()}},
                                          option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
