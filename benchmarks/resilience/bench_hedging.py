"""Hedging and latency-aware balancing: tail latency over a slow and a fast replica of one model.

Two upstreams serve the same model on 127.0.0.1: ``slow`` (lognormal latency, median 800 ms) and
``fast`` (median 50 ms). The same closed-loop load (default 300 requests, 8 in flight, after 50
unmeasured warm-up requests) goes
  * straight to the fast replica (the reference: its own p99),
  * through ``interlock serve`` in each variant (a fresh gateway per variant and pass):
      off        latency-blind balancer (uniform random order), hedging disabled;
      balancing  the shipped balancer (power of two choices on in-flight x latency EWMA), no hedging;
      on         the shipped balancer and hedging enabled (default settings: p95 delay, 5% budget).
Target (issue 4): p99 with hedging and balancing on <= 1.5 x the fast replica's own p99.

Run: ``python benchmarks/resilience/bench_hedging.py`` (about 2 minutes with the defaults).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import orjson

from closed_loop import Outcome, percentile_ms, run
from gateway_runs import (
    HERE, MODEL, Upstream, gateway_config, load_average, machine, source_tree, spread, start_gateway,
    start_upstream,
)

BODY = orjson.dumps({
    "model": MODEL, "max_tokens": 64, "temperature": 0.2,
    "messages": [{"role": "user", "content": "Say something true about foxes and dogs."}],
})
BLIND = [sys.executable, str(HERE / "serve_latency_blind.py")]
# name -> (resilience section, launcher); None is the shipped ``interlock serve``.
VARIANTS: dict[str, tuple[str, list[str] | None]] = {
    "off": ("{hedge: {enabled: false}}", BLIND),
    "balancing": ("{hedge: {enabled: false}}", None),
    "on": ("{hedge: {enabled: true}}", None),
    # Not run by default: hedging tuned for the cold start (see the README).
    "on-cold-tuned": ("{hedge: {enabled: true, cold_delay_s: 0.25, share: 0.25}}", None),
}
DEFAULT_VARIANTS = ["off", "balancing", "on"]


def summary(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    failed = [o for o in outcomes if not o.ok]
    return {
        "requests": len(outcomes),
        "failed": len(failed),
        "first_failure": failed[0].error if failed else None,
        "p50_ms": percentile_ms(list(outcomes), 50),
        "p95_ms": percentile_ms(list(outcomes), 95),
        "p99_ms": percentile_ms(list(outcomes), 99),
        "max_ms": max(o.latency_s for o in outcomes) * 1000,
        "served_by_slow": sum(o.served_by == "slow" for o in outcomes),
        "hedged": sum(o.hedged for o in outcomes),
    }


def measure(url: str, args: argparse.Namespace) -> dict[str, Any]:
    warm = asyncio.run(run(url, BODY, count=args.warmup, concurrency=args.concurrency)) if args.warmup else []
    started = time.monotonic()
    outcomes = asyncio.run(
        run(url, BODY, count=args.requests, concurrency=args.concurrency, first_index=args.warmup))
    result = summary(outcomes)
    result["seconds"] = time.monotonic() - started
    if warm:
        result["warmup"] = summary(warm)
    return result


def one_pass(tmp: Path, ports: dict[str, int], specs: list[Upstream], args: argparse.Namespace,
             n: int) -> dict[str, dict[str, Any]]:
    print(f"pass {n + 1}/{args.passes} (load average {load_average()})", file=sys.stderr, flush=True)
    results = {"fast direct": measure(f"http://127.0.0.1:{ports['fast']}/v1/chat/completions", args)}
    for name in args.variants:
        resilience, launcher = VARIANTS[name]
        text = gateway_config([(s, ports[s.name]) for s in specs], resilience, tmp)
        with start_gateway(f"{name}-{n}", text, tmp, launcher) as gw:
            results[name] = measure(f"http://127.0.0.1:{gw.port}/v1/chat/completions", args)
    for label, r in results.items():
        warm = r.get("warmup", {})
        print(f"  {label:<12} p50 {r['p50_ms']:7.1f}  p95 {r['p95_ms']:7.1f}  p99 {r['p99_ms']:7.1f}  "
              f"max {r['max_ms']:7.1f} ms  slow {r['served_by_slow']:>3}  hedged {r['hedged']:>3}  "
              f"failed {r['failed']}  | warm-up: slow {warm.get('served_by_slow', '-')}, "
              f"max {warm.get('max_ms', float('nan')):.0f} ms", file=sys.stderr, flush=True)
        if r["failed"]:
            raise SystemExit(f"{label}: {r['failed']} failed requests (first: {r['first_failure']})")
    return results


def report(passes: list[dict[str, dict[str, Any]]], args: argparse.Namespace) -> None:
    labels = list(passes[0])
    print(f"\n{len(passes)} pass(es); {args.requests} requests at concurrency {args.concurrency} after "
          f"{args.warmup} warm-up requests; median over passes (range)\n")
    print("| target | p50 ms | p95 ms | p99 ms | p99 / fast p99 | served by slow | hedged |")
    print("|---|---|---|---|---|---|---|")
    for label in labels:
        rows = [p[label] for p in passes]
        ratio = [p[label]["p99_ms"] / p["fast direct"]["p99_ms"] for p in passes]
        print(f"| {label} | {spread([r['p50_ms'] for r in rows])} | {spread([r['p95_ms'] for r in rows])} | "
              f"{spread([r['p99_ms'] for r in rows])} | {spread(ratio, '.2f')} | "
              f"{spread([r['served_by_slow'] for r in rows])} | {spread([r['hedged'] for r in rows])} |")
    if any("warmup" in p[label] for p in passes for label in labels if label != "fast direct"):
        print("\nwarm-up (not in the table above): requests served by slow, and the slowest warm-up request")
        for label in labels[1:]:
            warm = [p[label]["warmup"] for p in passes]
            print(f"  {label:<10} slow {spread([w['served_by_slow'] for w in warm])}, "
                  f"max {spread([w['max_ms'] for w in warm])} ms")
    if "on" in labels:
        ratios = [p["on"]["p99_ms"] / p["fast direct"]["p99_ms"] for p in passes]
        met = statistics.median(ratios) <= 1.5
        print(f"\ntarget: p99 (hedging + balancing on) <= 1.5 x fast replica's p99: "
              f"{'met' if met else 'NOT met'} ({spread(ratios, '.2f')}x; met in "
              f"{sum(r <= 1.5 for r in ratios)}/{len(ratios)} passes)")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=50, help="unmeasured requests before each measurement")
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--slow-ms", type=float, default=800.0, help="median latency of the slow replica")
    parser.add_argument("--fast-ms", type=float, default=50.0, help="median latency of the fast replica")
    parser.add_argument("--sigma", type=float, default=0.5,
                        help="standard deviation of log(latency), both replicas")
    parser.add_argument("--variants", type=lambda s: s.split(","), default=DEFAULT_VARIANTS,
                        help=f"comma-separated, from {','.join(VARIANTS)}")
    parser.add_argument("--seed", type=int, default=0, help="seeds the upstreams' latency draws")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    print(f"machine: {machine()}; load average (1/5 min) {load_average()}\n{source_tree()}", flush=True)
    specs = [Upstream("slow", args.slow_ms, args.sigma), Upstream("fast", args.fast_ms, args.sigma)]
    started = time.monotonic()
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="interlock-hedge-")))
        ports = {s.name: stack.enter_context(start_upstream(s, tmp, seed=10 * args.seed + i)).port
                 for i, s in enumerate(specs)}
        passes = [one_pass(tmp, ports, specs, args, n) for n in range(args.passes)]
    print(f"\n{time.monotonic() - started:.0f} s in all; load average at the end {load_average()}")
    report(passes, args)
    if args.json:
        raw = {"machine": machine(), "args": vars(args) | {"json": str(args.json)}, "passes": passes}
        args.json.write_text(orjson.dumps(raw, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
