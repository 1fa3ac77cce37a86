"""CPU per upstream call: interlock's UpstreamClient against tuned aiohttp sessions and a raw floor.

Starts ``benchmarks/gateway_overhead/mock_upstream.py`` on 127.0.0.1 and, for each client variant,
sends N chat-completion POSTs one after another (CPU time of each call, ``time.process_time()``)
and then N more from c concurrent tasks (process CPU over the batch / N). The mock runs in its own
process, so the numbers are the client's CPU alone. Modes: ``json`` (read a 16-token completion),
``stream`` (read all SSE events of a streamed answer) and ``parse`` (``product`` variants only: the
same 20 events through ``SseReader`` with no network, one event per read as a real upstream sends
tokens; ``c=`` is then meaningless). It is a benchmark, not a test.

    .venv/bin/python benchmarks/upstream_client/bench.py [--n 5000] [--concurrency 16] [--passes 3]
        [--modes json,stream] [--variants product,aiohttp,tuned,raw,...] [--src before=/other/checkout/src]
        [--loop uvloop|asyncio] [--json out.json]

Variants (see ``VARIANTS``): ``product`` is ``UpstreamClient`` (and ``SseReader``) from this tree's
``src`` (for this ``http://`` mock: the http1 transport); ``product-aiohttp`` the same client made to
go through aiohttp, as it does for ``https://`` upstreams; with ``--src NAME=PATH`` also
``product@NAME`` from another tree, for an A/B in one run.
``aiohttp`` is a plain session set up as UpstreamClient was before tuning; ``tuned`` has every knob
of ``AiohttpClient``; ``tuned-<knob>`` is ``tuned`` without that knob (what the knob is worth);
``raw`` is a minimal asyncio.Protocol + httptools keep-alive client, for information only (the floor).
Every measurement runs in a fresh worker process. ``knobs.py`` beside this file times, in isolation,
the aiohttp work that each knob saves. ``calls/req`` is the number of Python and C
function calls per request counted by cProfile over 200 sequential calls: deterministic, so it shows
a small saving that CPU time on a shared machine cannot.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import os
import pstats
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
from clients import KNOBS, AiohttpClient, ProductClient
from raw_client import RawClient

ROOT = Path(__file__).resolve().parents[2]
MOCK = ROOT / "benchmarks" / "gateway_overhead" / "mock_upstream.py"


VARIANTS: dict[str, Callable[[str], Any]] = {
    "product": ProductClient,
    "product-aiohttp": lambda base: ProductClient(base, via_aiohttp=True),
    "aiohttp": lambda base: AiohttpClient(base, frozenset()),
    "tuned": lambda base: AiohttpClient(base, frozenset(KNOBS)),
    **{f"tuned-{k}": (lambda base, k=k: AiohttpClient(base, frozenset(KNOBS) - {k})) for k in KNOBS},
    "raw": RawClient,
}



async def measure(client: Any, mode: str, n: int, concurrency: int, warmup: int) -> dict[str, float]:
    call: Callable[[int], Awaitable[Any]] = getattr(client, {"json": "post"}.get(mode, mode))
    expected = None if mode == "json" else 20  # role, 16 content chunks, finish, usage, [DONE]
    for i in range(warmup):
        got = await call(i)
        assert expected is None or got == expected, got
    profile = cProfile.Profile()
    profile.enable()
    for i in range(200):
        await call(i)
    profile.disable()
    calls = pstats.Stats(profile).total_calls / 200  # type: ignore[attr-defined]
    samples = []
    for i in range(n):
        t0 = time.process_time()
        await call(i)
        samples.append(time.process_time() - t0)
    next_i = iter(range(n))

    async def worker() -> None:
        for i in next_i:
            await call(i)

    w0, c0 = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    return {"seq_mean_us": 1e6 * sum(samples) / n, "seq_p50_us": 1e6 * statistics.median(samples),
            "conc_us": 1e6 * cpu / n, "conc_rps": n / wall, "calls": calls}


def worker_main(args: argparse.Namespace) -> None:
    """One measurement, in this process: print its numbers as JSON."""
    sys.path.insert(0, args.worker_src)
    variant = args.variants.partition("@")[0]

    async def main() -> dict[str, float]:
        client = VARIANTS[variant](args.worker_base)
        try:
            return await measure(client, args.modes, args.n, args.concurrency, args.warmup)
        finally:
            await client.aclose()

    if args.loop == "uvloop":
        import uvloop
        result = uvloop.run(main())
    else:
        result = asyncio.run(main())
    print(orjson.dumps(result).decode())


def run_worker(name: str, src: str, base: str, mode: str, args: argparse.Namespace) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--worker-base", base, "--worker-src", src, "--variants", name,
           "--modes", mode, "--n", str(args.n), "--concurrency", str(args.concurrency),
           "--warmup", str(args.warmup), "--loop", args.loop]
    env = {**os.environ, "PYTHONPATH": src}
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=300, env=env).stdout
    return orjson.loads(out.strip().splitlines()[-1])


@contextlib.contextmanager
def mock_upstream() -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, str(MOCK), "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def report(results: dict[tuple[str, str], list[dict[str, float]]], concurrency: int) -> None:
    print(f"\n| mode | variant | seq CPU µs/call: median (min-max) | seq p50 | c={concurrency} CPU µs/call: "
          f"median (min-max) | c={concurrency} calls/s | calls/req |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for (mode, name), runs in results.items():
        def med(key: str) -> float:
            return statistics.median(r[key] for r in runs)

        def rng(key: str) -> str:
            low, high = min(r[key] for r in runs), max(r[key] for r in runs)
            return f" ({low:.0f}-{high:.0f})" if len(runs) > 1 else ""

        print(f"| {mode} | {name} | {med('seq_mean_us'):.0f}{rng('seq_mean_us')} | {med('seq_p50_us'):.0f} "
              f"| {med('conc_us'):.0f}{rng('conc_us')} | {med('conc_rps'):.0f} | {med('calls'):.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--modes", default="json,stream")
    parser.add_argument("--variants", default="product,aiohttp,tuned,raw")
    parser.add_argument("--src", action="append", default=[], metavar="NAME=PATH",
                        help="another source tree whose UpstreamClient runs as variant product@NAME")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    parser.add_argument("--json", type=Path, help="write every run's numbers here")
    parser.add_argument("--worker-base", help=argparse.SUPPRESS)
    parser.add_argument("--worker-src", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker_base:
        worker_main(args)
        return
    srcs = {"": str(ROOT / "src")} | {f"@{k}": str(Path(v).resolve()) for k, _, v in
                                      (s.partition("=") for s in args.src)}
    names = args.variants.split(",") + [f"product{k}" for k in srcs if k]
    if "parse" in args.modes.split(",") and any(not n.startswith("product") for n in names):
        parser.error("mode parse is for product variants only (--variants product)")
    unknown = {n.partition("@")[0] for n in names} - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variants {sorted(unknown)}; known: {', '.join(VARIANTS)}")
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    with mock_upstream() as base:
        for p in range(args.passes):
            for mode in args.modes.split(","):
                for name in names:  # interleaved, so background load hits every variant alike
                    src = srcs["@" + name.partition("@")[2] if "@" in name else ""]
                    r = run_worker(name, src, base + "/v1", mode, args)
                    results.setdefault((mode, name), []).append(r)
                    print(f"pass {p + 1} {mode:6} {name:16} seq {r['seq_mean_us']:6.0f} µs  "
                          f"c={args.concurrency} {r['conc_us']:6.0f} µs  {r['calls']:5.0f} calls/req",
                          flush=True)
    report(results, args.concurrency)
    if args.json:
        args.json.write_text(orjson.dumps({f"{m}/{v}": r for (m, v), r in results.items()},
                                          option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
