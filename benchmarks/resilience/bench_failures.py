"""Failover: client success rate when one upstream fails 30% of requests and a healthy fallback exists.

The flaky upstream answers after a lognormal latency (median 20 ms) or fails: 30% of requests
(half with a 500 and an OpenAI error body, half with a TCP reset). The healthy one (median 40 ms)
never fails. Two set-ups, each behind a fresh ``interlock serve`` (retries and retry budget at
their defaults; no hedging):
  replicas  both serve one model; the client names it and the balancer orders the replicas;
  route     the flaky upstream is a cheap self-hosted model and the healthy one a pricier vendor
            model; the client asks for a named route (classifier + policy on every request), the
            policy picks the cheap model and keeps the vendor as the ranked fallback.
and two breaker settings:
  default   the shipped breaker (opens after 5 failures in a row or a 50% error rate): at 30%
            failures it trips now and then and keeps the flaky upstream out for its 10 s cooldown;
  closed    a breaker that never opens, so every request meets the 30% failure rate first: the
            harder test of retries and fallback.
Each combination gets the same closed-loop load, non-streaming and streaming (default 1,000
requests each at concurrency 16: 8,000 in all), from a cold start. A request succeeds when it gets a 200 with
choices, or a stream that ends with ``data: [DONE]`` and no error event.
Target (issue 4): at least 99.9% of client requests succeed.

Run: ``python benchmarks/resilience/bench_failures.py`` (1 to 2 minutes with the defaults on a busy
2-core machine; ``--requests`` scales it).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import orjson

from closed_loop import Outcome, percentile_ms, run
from gateway_runs import (
    MODEL, Upstream, gateway_config, load_average, machine, source_tree, spread, start_gateway,
    start_upstream,
)

PROMPT = ("Extract the invoice number, the date and the total amount from this text as JSON: "
          "'Invoice INV-20931, issued 3 March 2026, total due EUR 1,240.50, payable within 30 days.'")
ROUTE = "invoice-extraction"
BREAKERS = {"default": "{}", "closed": "{breaker: {consecutive_failures: 1000000, error_rate: 1.0}}"}


def scenarios(fail_rate: float, reset_share: float) -> dict[str, tuple[list[Upstream], str, str]]:
    """name -> (upstreams, extra config, model the client asks for); the flaky upstream comes first."""
    replicas = [Upstream("flaky", 20, fail_rate=fail_rate, reset_share=reset_share), Upstream("healthy", 40)]
    route = [
        Upstream("flaky", 20, fail_rate=fail_rate, reset_share=reset_share, model="qwen2.5-72b-instruct",
                 price_out=0.40),
        Upstream("healthy", 40, model="gpt-4.1", external=True, price_out=8.0),
    ]
    route_config = (f"routes:\n  - name: {ROUTE}\n    candidates: [qwen2.5-72b-instruct, gpt-4.1]\n"
                    "    error_cost: low\n")
    return {"replicas": (replicas, "", MODEL), "route": (route, route_config, ROUTE)}


def body(model: str, stream: bool) -> bytes:
    b: dict[str, Any] = {"model": model, "max_tokens": 64, "messages": [{"role": "user", "content": PROMPT}]}
    if stream:
        b |= {"stream": True, "stream_options": {"include_usage": True}}
    return orjson.dumps(b)


def attempts_of(o: Outcome) -> list[tuple[str, str, str]]:
    """(deployment, outcome, code) of every attempt in the x-interlock-attempts header."""
    out = []
    for item in filter(None, o.attempts.split(", ")):
        parts = item.split(";")
        fields = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        out.append((parts[0], fields.get("outcome", ""), fields.get("code", "")))
    return out


def summary(outcomes: Sequence[Outcome], seconds: float) -> dict[str, Any]:
    attempts = [a for o in outcomes for a in attempts_of(o)]
    flaky = [a for a in attempts if a[0] == "flaky"]
    failed = [o for o in outcomes if not o.ok]
    return {
        "requests": len(outcomes),
        "succeeded": len(outcomes) - len(failed),
        "success_pct": 100 * (len(outcomes) - len(failed)) / len(outcomes),
        "failures": [o.error for o in failed[:5]],
        "first_try_flaky": sum(1 for o in outcomes if attempts_of(o)[:1] and attempts_of(o)[0][0] == "flaky"),
        "served_by_healthy_after_flaky_failed": sum(
            1 for o in outcomes if o.served_by == "healthy" and any(a[0] == "flaky" for a in attempts_of(o))),
        "flaky_attempts": sum(1 for a in flaky if a[2] != "circuit_open"),  # calls that reached the upstream
        "flaky_refused": sum(1 for a in flaky if a[2] == "circuit_open"),  # refused by the open breaker
        "flaky_attempt_failures": Counter(
            a[2] or a[1] for a in flaky if a[1] != "ok" and a[2] != "circuit_open"),
        "p50_ms": percentile_ms(list(outcomes), 50),
        "p99_ms": percentile_ms(list(outcomes), 99),
        "seconds": seconds,
    }


def one_pass(tmp: Path, args: argparse.Namespace, n: int) -> dict[str, dict[str, Any]]:
    print(f"pass {n + 1}/{args.passes} (load average {load_average()})", file=sys.stderr, flush=True)
    results: dict[str, dict[str, Any]] = {}
    for name, (specs, extra, model) in scenarios(args.fail_rate, args.reset_share).items():
        if name not in args.scenarios:
            continue
        for breaker in args.breakers:
            with ExitStack() as stack:
                seeds = [1000 * args.seed + 100 * n + i for i in range(len(specs))]
                ports = {s.name: stack.enter_context(start_upstream(s, tmp, seed)).port
                         for s, seed in zip(specs, seeds)}
                text = gateway_config([(s, ports[s.name]) for s in specs], BREAKERS[breaker], tmp, extra)
                gw = stack.enter_context(start_gateway(f"{name}-{breaker}-{n}", text, tmp))
                for stream in args.modes:
                    label = f"{name}, breaker {breaker}, {'stream' if stream else 'json'}"
                    results[label] = r = measure(gw.port, model, stream, args)
                    fails = dict(r["flaky_attempt_failures"])
                    print(f"  {label:<32} {r['succeeded']}/{r['requests']} ok ({r['success_pct']:.2f}%)  "
                          f"first choice flaky {r['first_try_flaky']}  calls to flaky {r['flaky_attempts']} "
                          f"(refused {r['flaky_refused']}) "
                          f"(failed: {fails})  p50 {r['p50_ms']:.0f} p99 {r['p99_ms']:.0f} ms  "
                          f"{r['seconds']:.1f} s",
                          file=sys.stderr, flush=True)
                    for failure in r["failures"]:
                        print(f"    failed: {failure}", file=sys.stderr, flush=True)
    return results


def measure(port: int, model: str, stream: bool, args: argparse.Namespace) -> dict[str, Any]:
    started = time.monotonic()
    outcomes = asyncio.run(run(f"http://127.0.0.1:{port}/v1/chat/completions", body(model, stream),
                               count=args.requests, concurrency=args.concurrency, stream=stream))
    return summary(outcomes, time.monotonic() - started)


def report(passes: list[dict[str, dict[str, Any]]], args: argparse.Namespace) -> None:
    print(f"\n{len(passes)} pass(es); {args.requests} requests per row at concurrency {args.concurrency}, "
          f"flaky upstream failing {args.fail_rate:.0%} of attempts "
          f"({args.reset_share:.0%} of those resets); "
          "median over passes (range)\n")
    print("| set-up, breaker, mode | client success | first choice flaky | calls to flaky (failed) | "
          "refused by open breaker | served by healthy after flaky failed | p50 ms | p99 ms |")
    print("|---|---|---|---|---|---|---|---|")
    for label in passes[0]:
        rows = [p[label] for p in passes]
        ok = sum(r["succeeded"] for r in rows)
        total = sum(r["requests"] for r in rows)
        failed_attempts = [sum(r["flaky_attempt_failures"].values()) for r in rows]
        fail_share = [f / r["flaky_attempts"] for f, r in zip(failed_attempts, rows) if r["flaky_attempts"]]
        share = spread(fail_share, ".0%") if fail_share else "-"
        print(f"| {label} | {ok}/{total} ({100 * ok / total:.2f}%) | "
              f"{spread([r['first_try_flaky'] for r in rows])} | "
              f"{spread([r['flaky_attempts'] for r in rows])} ({share}) | "
              f"{spread([r['flaky_refused'] for r in rows])} | "
              f"{spread([r['served_by_healthy_after_flaky_failed'] for r in rows])} | "
              f"{spread([r['p50_ms'] for r in rows])} | {spread([r['p99_ms'] for r in rows])} |")
    ok = sum(r["succeeded"] for p in passes for r in p.values())
    total = sum(r["requests"] for p in passes for r in p.values())
    worst = min(r["success_pct"] for p in passes for r in p.values())
    print(f"\ntarget: >= 99.9% of client requests succeed: {'met' if worst >= 99.9 else 'NOT met'} "
          f"({ok}/{total} = {100 * ok / total:.3f}% over all rows; worst row {worst:.2f}%)")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests per row (set-up, breaker, mode)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--passes", type=int, default=1)
    parser.add_argument("--fail-rate", type=float, default=0.3)
    parser.add_argument("--reset-share", type=float, default=0.5,
                        help="share of failures that are TCP resets")
    parser.add_argument("--scenarios", type=lambda s: s.split(","), default=["replicas", "route"])
    parser.add_argument("--breakers", type=lambda s: s.split(","), default=list(BREAKERS))
    parser.add_argument("--modes", type=lambda s: [m == "stream" for m in s.split(",")],
                        default=[False, True], help="json,stream (default both)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the upstreams' latency and failure draws")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    print(f"machine: {machine()}; load average (1/5 min) {load_average()}\n{source_tree()}", flush=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="interlock-failover-") as tmp:
        passes = [one_pass(Path(tmp), args, n) for n in range(args.passes)]
    print(f"\n{time.monotonic() - started:.0f} s in all; load average at the end {load_average()}")
    report(passes, args)
    if args.json:
        raw = {"machine": machine(), "args": vars(args) | {"json": str(args.json)}, "passes": passes}
        args.json.write_text(orjson.dumps(raw, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
