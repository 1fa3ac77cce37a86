"""Gateway overhead benchmark: a fast mock OpenAI upstream, the gateway in front of it, a load generator.

Three kinds of process, all on 127.0.0.1:
  * ``mock_upstream.py``: the upstream (raw asyncio + httptools on uvloop, canned answers);
  * ``interlock serve``: the gateway, one process each with the request log off and on, with one
    openai-type deployment pointing at the mock;
  * ``loadgen.py``: closed-loop load at an exact concurrency, one process per measurement.

For each pass, mode (non-streaming, streaming) and concurrency it measures the mock directly and
then through each gateway, back to back, so that background load hits them alike. It prints
requests/s, p50/p99 latency, the latency the gateway adds, the throughput ratio, and the gateway's
CPU time per request (utime+stime from /proc over the measured window, divided by requests).

Run: ``python benchmarks/gateway_overhead/bench.py`` (about two and a half minutes by default).
``--gateway before=/path/to/other/src`` compares another source tree in the same run.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent
MODEL = "bench-model"
MESSAGES = [
    {"role": "system", "content": "You are a concise assistant. Answer in one sentence."},
    {"role": "user", "content": "Say something true about foxes and dogs."},
]
# Request log off: only warnings are logged. On: one JSON line per request (the default, --log-level info).
LOG_LEVELS = {"log-off": "warning", "log-on": "info"}
# measured beside the gateways for comparison; the targets judge only interlock
YARDSTICKS = ("floor", "litellm")


def request_body(stream: bool) -> bytes:
    body: dict[str, Any] = {"model": MODEL, "messages": MESSAGES, "max_tokens": 64, "temperature": 0.2}
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return orjson.dumps(body)


def gateway_config(upstream_port: int) -> str:
    # No API keys: the benchmark measures the proxy path; key checks and budgets are not part of it.
    return (
        "server: {auth: false}\n"
        "deployments:\n"
        "  - name: bench-upstream\n"
        "    type: openai\n"
        f"    model: {MODEL}\n"
        "    vendor: bench\n"
        "    perimeter: internal\n"
        "    context_window: 8192\n"
        f"    base_url: http://127.0.0.1:{upstream_port}/v1\n"
        "    price: {input_per_mtok: 0.1, output_per_mtok: 0.2}\n"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Process:
    label: str  # how results name it: direct, gw/log-off, ...
    role: str  # how the load generator names its CPU time: mock or gateway
    popen: subprocess.Popen[bytes]
    port: int


@contextmanager
def running(
    label: str, role: str, argv: list[str], port: int, ready_url: str | None, log: Path, env: dict[str, str]
) -> Iterator[Process]:
    """Start a process (output to ``log``), wait until it answers, stop it (SIGTERM) on exit."""
    with open(log, "wb") as out:
        popen = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
    proc = Process(label, role, popen, port)
    try:
        _wait_ready(proc, ready_url, log)
        yield proc
    finally:
        popen.terminate()
        try:
            popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait()


def _wait_ready(proc: Process, url: str | None, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise SystemExit(f"{proc.label} exited with {proc.popen.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if url is None:
                with socket.create_connection(("127.0.0.1", proc.port), timeout=1):
                    return
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{proc.label} did not become ready in {timeout:.0f}s:\n{log.read_text()[-3000:]}")


def children_of(pid: int) -> list[int]:
    """Every descendant of ``pid`` (the gateway's ledger and audit writer; granian's worker), from /proc."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids = [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
        for kid in kids:
            out += [kid, *children_of(kid)]
    return out


def load(target: Process, stream: bool, concurrency: int, args: argparse.Namespace, mock: Process) -> dict[str, Any]:
    watch = [mock] if target is mock else [target, mock]
    helpers = [] if target is mock else children_of(target.popen.pid)
    argv = [
        sys.executable, str(HERE / "loadgen.py"), "--port", str(target.port), "--body", request_body(stream).decode(),
        "--concurrency", str(concurrency), "--warmup", str(args.warmup), "--duration", str(args.duration),
        *(["--stream"] if stream else []), *(a for p in watch for a in ("--watch", f"{p.role}={p.popen.pid}")),
        *(a for i, pid in enumerate(helpers) for a in ("--watch", f"child{i}={pid}")),
    ]
    out = subprocess.run(argv, capture_output=True, check=True, timeout=args.warmup + args.duration + 60)
    result: dict[str, Any] = orjson.loads(out.stdout)
    cpu = result["cpu_ms_per_request"]
    # the gateway's own children (its writer process) count as the gateway's CPU too
    cpu["gateway_children"] = sum(v for k, v in cpu.items() if k.startswith("child"))
    if result["failures"]:
        raise SystemExit(f"{target.label}: {result['failures']} failed requests (first: {result['first_failure']})")
    return result


Results = dict[tuple[str, bool, int], list[dict[str, Any]]]  # (label, stream, concurrency) -> one per pass


def run_passes(args: argparse.Namespace, mock: Process, gateways: list[Process]) -> Results:
    results: Results = {}
    for n in range(args.passes):
        print(f"pass {n + 1}/{args.passes} (load average {os.getloadavg()[0]:.2f})", file=sys.stderr, flush=True)
        for stream in args.modes:
            for c in args.concurrency:
                for target in (mock, *gateways):
                    res = load(target, stream, c, args, mock)
                    results.setdefault((target.label, stream, c), []).append(res)
                    gw_cpu = res["cpu_ms_per_request"].get("gateway")
                    print(f"  {target.label:<16} {'stream' if stream else 'json':<6} c={c:<3} {res['rps']:7.0f} req/s"
                          f"  p50 {res['p50_ms']:7.3f} ms  p99 {res['p99_ms']:7.3f} ms"
                          + (f"  gateway CPU {gw_cpu:.3f} ms/req" if gw_cpu is not None else ""),
                          file=sys.stderr, flush=True)
    return results


def _range(values: list[float], fmt: str) -> str:
    return f"{min(values):{fmt}}-{max(values):{fmt}}" if len(values) > 1 else ""


def summarize(results: Results, args: argparse.Namespace, labels: list[str]) -> list[dict[str, Any]]:
    """Medians over passes, with ranges; gateways also get added p50, throughput ratio and CPU per request."""
    rows: list[dict[str, Any]] = []
    for stream in args.modes:
        for c in args.concurrency:
            d_p50 = statistics.median(r["p50_ms"] for r in results[("direct", stream, c)])
            d_rps = statistics.median(r["rps"] for r in results[("direct", stream, c)])
            for label in ["direct", *labels]:
                runs = results[(label, stream, c)]
                rps, p50s = [r["rps"] for r in runs], [r["p50_ms"] for r in runs]
                row: dict[str, Any] = {
                    "target": label, "stream": stream, "concurrency": c,
                    "rps": statistics.median(rps), "rps_range": _range(rps, ".0f"),
                    "p50_ms": statistics.median(p50s), "p99_ms": statistics.median(r["p99_ms"] for r in runs),
                }
                if label != "direct":
                    cpu = [r["cpu_ms_per_request"]["gateway"] for r in runs]
                    total = [r["cpu_ms_per_request"]["gateway"] + r["cpu_ms_per_request"]["gateway_children"]
                             for r in runs]
                    row.update(
                        total_cpu_ms=statistics.median(total), total_range=_range(total, ".3f"),
                        added_p50_ms=statistics.median(p50s) - d_p50, added_range=_range([p - d_p50 for p in p50s], ".3f"),
                        rps_ratio=statistics.median(rps) / d_rps,
                        gateway_cpu_ms=statistics.median(cpu), cpu_range=_range(cpu, ".3f"),
                    )
                rows.append(row)
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    head = (f"{'mode':<7}{'conc':>4}  {'target':<16}{'req/s':>7} {'(range)':>11}{'p50 ms':>8}{'p99 ms':>8}"
            f"{'+p50 ms':>9} {'(range)':>13}{'ratio':>6}{'gw CPU ms/req':>14} {'(range)':>12}"
            f"{'+children':>10}")
    print(head)
    print("-" * len(head))
    for r in rows:
        line = (f"{'stream' if r['stream'] else 'json':<7}{r['concurrency']:>4}  {r['target']:<16}{r['rps']:>7.0f} "
                f"{r['rps_range']:>11}{r['p50_ms']:>8.3f}{r['p99_ms']:>8.3f}")
        if r["target"] != "direct":
            line += (f"{r['added_p50_ms']:>9.3f} {r['added_range']:>13}{r['rps_ratio']:>6.2f}"
                     f"{r['gateway_cpu_ms']:>14.3f} {r['cpu_range']:>12}{r['total_cpu_ms']:>10.3f}")
        print(line)


def check_targets(rows: list[dict[str, Any]], gateways: list[str]) -> list[str]:
    """The five targets of the request-core renovation (issue 13), for each of interlock's ``gateways``:
    one gateway process, default features on. The LiteLLM target needs ``--litellm`` (its req/s in
    the same run)."""
    by = {(r["target"], r["stream"], r["concurrency"]): r for r in rows}
    peer = by.get(("litellm", False, 64))
    out = []
    for g in gateways:
        c1, c64, s64 = by.get((g, False, 1)), by.get((g, False, 64)), by.get((g, True, 64))
        if c1:
            out.append(_verdict(g, "added p50 at c=1 <= 0.7 ms", c1["added_p50_ms"] <= 0.7, f"{c1['added_p50_ms']:.3f} ms"))
        if c64:
            out.append(_verdict(g, "req/s at c=64 >= 1800", c64["rps"] >= 1800, f"{c64['rps']:.0f}"))
            out.append(_verdict(g, "CPU per JSON request <= 0.5 ms (c=64, with the writer process)",
                                c64["total_cpu_ms"] <= 0.5, f"{c64['total_cpu_ms']:.3f} ms"))
            if peer and peer["rps"] > 0:
                ratio = c64["rps"] / peer["rps"]
                out.append(_verdict(g, "req/s >= 15x LiteLLM's at c=64 (JSON, same run)", ratio >= 15,
                                    f"{ratio:.1f}x ({c64['rps']:.0f} against {peer['rps']:.0f})"))
        if s64:
            out.append(_verdict(g, "CPU per 16-chunk stream <= 1.0 ms (c=64, with the writer process)",
                                s64["total_cpu_ms"] <= 1.0, f"{s64['total_cpu_ms']:.3f} ms"))
    return out


def paired_ratios(results: Results, gateways: list[str]) -> list[str]:
    """Each gateway's JSON req/s at c=64 over LiteLLM's in the same pass, run back to back: read beside the
    verdict (a ratio of medians), as LiteLLM's own throughput moves a lot from pass to pass."""
    peer = results.get(("litellm", False, 64))
    out = []
    for g in gateways:
        mine = results.get((g, False, 64))
        if not peer or not mine:
            continue
        ratios = [a["rps"] / b["rps"] for a, b in zip(mine, peer, strict=True) if b["rps"] > 0]
        if ratios:
            out.append(f"  {g}: per-pass ratio to LiteLLM (JSON, c=64): median {statistics.median(ratios):.1f}x, "
                       f"range {min(ratios):.1f}-{max(ratios):.1f}x over {len(ratios)} passes")
    return out


def _verdict(gateway: str, what: str, ok: bool, value: str) -> str:
    return f"  [{'met' if ok else 'NOT met'}] {gateway}: {what}: {value}"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, {platform.system()} {platform.release()}"


def start_gateways(stack: ExitStack, args: argparse.Namespace, config: Path, tmp: Path) -> list[Process]:
    gateways = []
    for name, src in args.gateway or [("gw", "")]:
        env = dict(os.environ, INTERLOCK_WORKERS="1")  # one serving process (older trees ignore it)
        if src:  # import interlock from this source tree instead of the installed one
            env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH", "")) if p)
        for log in args.log:
            label, port = f"{name}/{log}", free_port()
            # its own fresh ledger and audit log in the run's directory: runs compare alike, and the user's
            # own ledger (the default location) never gets the benchmark's records
            env = dict(env, XDG_DATA_HOME=str(tmp / f"{label.replace('/', '-')}-data"))
            argv = [sys.executable, "-m", "interlock.cli.main", "serve", "--config", str(config),
                    "--port", str(port), "--log-level", LOG_LEVELS[log]]
            if name in (args.granian or []):  # the same app under granian (one worker process)
                argv = [str(Path(sys.executable).with_name("granian")), "--interface", "asgi", "--factory",
                        "--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--loop", "uvloop",
                        "--no-ws", "--log-level", "warning", "interlock.cli.serve_workers:create_app"]
                env.update(INTERLOCK_CONFIG=str(config), INTERLOCK_LOG_LEVEL=LOG_LEVELS[log].upper())
            ready = f"http://127.0.0.1:{port}/readyz"
            log_file = tmp / f"{label.replace('/', '-')}.log"
            gateways.append(stack.enter_context(running(label, "gateway", argv, port, ready, log_file, env)))
    return gateways


def start_litellm(stack: ExitStack, binary: str, upstream_port: int, tmp: Path) -> Process:
    """LiteLLM's proxy (its own install: ``--litellm /path/to/venv/bin/litellm``) in front of the same
    mock, 2 workers, no database: the peer the issue compares against, in the same run."""
    config = tmp / "litellm.yaml"
    config.write_text(
        "model_list:\n"
        f"  - model_name: {MODEL}\n"
        "    litellm_params:\n"
        f"      model: openai/{MODEL}\n"
        f"      api_base: http://127.0.0.1:{upstream_port}/v1\n"
        "      api_key: bench\n"
    )
    port = free_port()
    argv = [binary, "--config", str(config), "--port", str(port), "--num_workers", "2"]
    # no master key: this is a loopback benchmark, and interlock runs without auth here too
    env = dict(os.environ, LITELLM_LOG="ERROR", LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY="true")
    return stack.enter_context(running("litellm", "gateway", argv, port, f"http://127.0.0.1:{port}/health/liveliness",
                                       tmp / "litellm.log", env))


def start_floor(stack: ExitStack, upstream_port: int, tmp: Path) -> Process:
    """The bare proxy (``floor_proxy.py``): the same server and client libraries, no gateway work."""
    port = free_port()
    argv = [sys.executable, str(HERE / "floor_proxy.py"), "--port", str(port),
            "--upstream", f"http://127.0.0.1:{upstream_port}/v1/chat/completions"]
    return stack.enter_context(running("floor", "gateway", argv, port, f"http://127.0.0.1:{port}/ready",
                                       tmp / "floor.log", dict(os.environ)))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[1, 16, 64])
    parser.add_argument("--modes", type=lambda s: [m == "stream" for m in s.split(",")], default=[False, True],
                        help="json,stream (default both)")
    parser.add_argument("--log", type=lambda s: s.split(","), default=list(LOG_LEVELS), help="log-off,log-on")
    parser.add_argument("--gateway", action="append", metavar="NAME=SRC_DIR",
                        type=lambda s: tuple(s.split("=", 1)) if "=" in s else (s, ""),
                        help="a gateway to measure, importing interlock from SRC_DIR (repeatable; "
                             "default: the installed package, named gw)")
    parser.add_argument("--granian", action="append", metavar="NAME",
                        help="serve the --gateway of this name with granian instead of uvicorn")
    parser.add_argument("--floor", action="store_true",
                        help="also measure a bare proxy on the same stack (uvicorn + aiohttp, no gateway work)")
    parser.add_argument("--litellm", metavar="PATH", help="also measure LiteLLM's proxy (path to its `litellm` command)")
    parser.add_argument("--passes", type=int, default=2, help="repeat every measurement; medians are reported")
    parser.add_argument("--duration", type=float, default=3.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=0.5, help="unmeasured seconds before each run")
    parser.add_argument("--tokens", type=int, default=16, help="completion tokens per answer (= streamed chunks)")
    parser.add_argument("--json", type=Path, help="also write the raw results and summary here")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    print(f"machine: {machine()}", flush=True)
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="interlock-bench-")))
        mock_port = free_port()
        mock_argv = [sys.executable, str(HERE / "mock_upstream.py"), "--port", str(mock_port), "--tokens", str(args.tokens)]
        mock = stack.enter_context(running("direct", "mock", mock_argv, mock_port, None, tmp / "mock.log", dict(os.environ)))
        config = tmp / "gateway.yaml"
        config.write_text(gateway_config(mock_port))
        gateways = start_gateways(stack, args, config, tmp)
        if args.floor:
            gateways.insert(0, start_floor(stack, mock_port, tmp))
        if args.litellm:
            gateways.append(start_litellm(stack, args.litellm, mock_port, tmp))
        started, load_before = time.monotonic(), os.getloadavg()[0]
        results = run_passes(args, mock, gateways)
        elapsed, load_after = time.monotonic() - started, os.getloadavg()[0]
    labels = [g.label for g in gateways]
    rows = summarize(results, args, labels)
    print(f"\n{args.passes} pass(es) of {args.duration:g} s measured after {args.warmup:g} s warm-up per run, "
          f"{args.tokens} tokens per answer, {elapsed:.0f} s in all, load average {load_before:.2f} -> {load_after:.2f}; "
          "medians over passes (range)\n")
    print_table(rows)
    print("\ntargets (one gateway process, default features on):")
    judged = [g for g in labels if g not in YARDSTICKS]  # the floor and LiteLLM are yardsticks, not judged
    print("\n".join(check_targets(rows, judged) + paired_ratios(results, judged)))
    if args.json:
        raw = {f"{t}|{'stream' if s else 'json'}|{c}": v for (t, s, c), v in results.items()}
        args.json.write_text(orjson.dumps({"machine": machine(), "rows": rows, "raw": raw},
                                          option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
