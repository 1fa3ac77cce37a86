"""Routing cost per request: feature extraction (classifier, token count, needs) plus the policy.

What is timed is ``runtime.router.decide(parse_chat_request(body))`` for ``model: "auto"`` over the
catalog of ``examples/hybrid.yaml`` (seven deployments, six chat models), with a ``Runtime`` built
from that file (building it contacts no upstream) and the shipped classifier: everything the
gateway does to route a request, and nothing of the model call. Prompts of about 50, 500 and 2,000
tokens (the SmolLM2 tokenizer that ``interlock.routing.tokens.count_text`` uses) are stitched from
the classifier's training prompts; each size is sent as one user message and as a conversation
(system prompt, two earlier turns, then the prompt). A stage breakdown times the parts alone.
Memory: RSS of a fresh interpreter with the runtime built, before and after loading the
classifier and classifying 200 prompts (and from a bare interpreter, for the import cost).

    .venv/bin/python benchmarks/routing/bench_routing.py                # table, 15-40 s
    .venv/bin/python benchmarks/routing/bench_routing.py --profile      # + cProfile of 2,000 tokens
    .venv/bin/python benchmarks/routing/bench_routing.py --json out.json

Targets (issue 3): p50 < 2 ms and p99 < 10 ms up to 2,000 tokens; memory added < 300 MB.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import pstats
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from interlock.config.load import load_config
from interlock.gateway.runtime import Runtime
from interlock.routing.classifier.dataset import TRAIN_FILE, load_prompts
from interlock.routing.classifier.timing import sample_prompts
from interlock.routing.features import extract_features
from interlock.routing.policy import decide
from interlock.routing.settings import AUTO_ROUTE
from interlock.routing.tokens import count_messages, count_text
from interlock.wire.openai_chat import parse_chat_request

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "examples" / "hybrid.yaml"
SIZES = (50, 500, 2000)
SYSTEM = "You are an assistant for Northwind Bank's operations team. Be precise and concise."
EARLIER = [
    {"role": "user", "content": "Hi, I have a question about a document."},
    {"role": "assistant", "content": "Of course, please share it."},
]
SHAPES: dict[str, Callable[[str], list[dict[str, Any]]]] = {
    "one user message": lambda p: [{"role": "user", "content": p}],
    "system + 2 turns + prompt": lambda p: [{"role": "system", "content": SYSTEM}, *EARLIER,
                                            {"role": "user", "content": p}],
}

MEMORY_PROBE = """
import json, resource, sys
def rss_mb():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
bare = rss_mb()
from interlock.config.load import load_config
from interlock.gateway.runtime import Runtime
runtime = Runtime(load_config(sys.argv[1]))
built = rss_mb()
runtime.classifier.load()
for i in range(200):
    text = "Translate into French: invoice %d is overdue. " % i * (1 + i % 40)
    runtime.classifier.classify([{"role": "user", "content": text}])
loaded = rss_mb()
print(json.dumps({"bare_mb": bare, "runtime_built_mb": built, "classifier_loaded_mb": loaded,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def percentiles(samples: Sequence[float]) -> dict[str, float]:
    ms = np.array(samples) * 1000.0
    return {"p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99)),
            "max_ms": float(ms.max()), "n": len(ms)}


def timed(call: Callable[[Any], object], inputs: Sequence[Any], rounds: int) -> dict[str, dict[str, float]]:
    """Wall-clock and this thread's CPU time per call, over ``rounds`` passes after one warm-up pass."""
    for item in inputs:
        call(item)
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(rounds):
        for item in inputs:
            w0, c0 = time.perf_counter(), time.thread_time()
            call(item)
            c1, w1 = time.thread_time(), time.perf_counter()
            wall.append(w1 - w0)
            cpu.append(c1 - c0)
    return {"wall": percentiles(wall), "cpu": percentiles(cpu)}


def bodies(texts: list[str], tokens: int, shape: str, count: int) -> list[dict[str, Any]]:
    prompts = sample_prompts(texts, tokens, count, seed=tokens, count_tokens=count_text)
    return [{"model": "auto", "messages": SHAPES[shape](p)} for p in prompts]


def stage_calls(
    runtime: Runtime, items: Sequence[dict[str, Any]]
) -> dict[str, Callable[[dict[str, Any]], object]]:
    """The stages of ``Router.decide`` for the auto route, each callable alone on one of ``items``
    (parsed requests and features are computed before anything is timed)."""
    router = runtime.router
    route = router.routes[AUTO_ROUTE]
    models = [router.catalog.models[n] for n in route.candidates or router.catalog.models]
    fraction = router.settings.error_cost_fractions[route.error_cost]
    classifier = runtime.classifier
    parsed: dict[int, Any] = {}
    features: dict[int, Any] = {}

    def req(body: dict[str, Any]) -> Any:
        key = id(body)
        if key not in parsed:
            parsed[key] = parse_chat_request(body)
        return parsed[key]

    def feats(body: dict[str, Any]) -> Any:
        key = id(body)
        if key not in features:
            features[key] = extract_features(req(body), classifier, route.expected_output_tokens)
        return features[key]

    for body in items:
        feats(body)
    return {
        "parse_chat_request": parse_chat_request,
        "classify (messages as dicts)": lambda b: classifier.classify(
            [m.model_dump(exclude_none=True) for m in req(b).messages]),
        "count_messages": lambda b: count_messages(req(b).messages),
        "extract_features (all of the above but parse)": lambda b: extract_features(
            req(b), classifier, route.expected_output_tokens),
        "policy decide (features given)": lambda b: decide(route, feats(b), models, router.table, fraction,
                                                           router.cost_of),
    }


def latency(runtime: Runtime, rounds: int, count: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    texts = [p.text for p in load_prompts(TRAIN_FILE)]
    # Every prompt is built (a tokenizer-heavy search) before anything is timed.
    prompt_sets = {(tokens, shape): bodies(texts, tokens, shape, count) for tokens in SIZES for shape in SHAPES}
    gc.collect()
    end_to_end: list[dict[str, Any]] = []
    stages: list[dict[str, Any]] = []
    for tokens in SIZES:
        for shape in SHAPES:
            items = prompt_sets[(tokens, shape)]
            mean_tokens = sum(count_messages(parse_chat_request(b).messages) for b in items) / len(items)
            row = timed(lambda b: runtime.router.decide(parse_chat_request(b)), items, rounds)
            end_to_end.append({"tokens": tokens, "shape": shape, "prompt_tokens": mean_tokens, **row})
            if shape == "one user message":
                for stage, call in stage_calls(runtime, items).items():
                    stages.append({"tokens": tokens, "stage": stage, **timed(call, items, rounds)})
    return end_to_end, stages


def memory() -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(CONFIG)], capture_output=True, text=True,
                         check=True)
    result: dict[str, Any] = json.loads(out.stdout)
    result["added_by_classifier_mb"] = result["classifier_loaded_mb"] - result["runtime_built_mb"]
    result["added_from_bare_mb"] = result["classifier_loaded_mb"] - result["bare_mb"]
    return result


def profile(runtime: Runtime, top: int) -> str:
    texts = [p.text for p in load_prompts(TRAIN_FILE)]
    items = bodies(texts, 2000, "one user message", 100)
    for b in items[:20]:
        runtime.router.decide(parse_chat_request(b))
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(3):
        for b in items:
            runtime.router.decide(parse_chat_request(b))
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def print_report(report: dict[str, Any]) -> None:
    print(f"load average {report['load_average_before']} -> {report['load_average_after']}; "
          f"{report['rounds']} rounds over {report['prompts']} prompts per row; {report['git']}")
    print("\nrouter.decide(parse_chat_request(body)), model auto, examples/hybrid.yaml catalog\n")
    print("| prompt | shape | tokens (mean) | wall p50 ms | wall p99 ms | CPU p50 ms | CPU p99 ms "
          "| wall max ms |")
    print("|---|---|---|---|---|---|---|---|")
    for r in report["end_to_end"]:
        w, c = r["wall"], r["cpu"]
        print(f"| ~{r['tokens']} | {r['shape']} | {r['prompt_tokens']:.0f} | {w['p50_ms']:.3f} | "
              f"{w['p99_ms']:.3f} | "
              f"{c['p50_ms']:.3f} | {c['p99_ms']:.3f} | {w['max_ms']:.1f} |")
    print("\nstages alone (one user message; CPU time p50 / p99 ms)\n")
    print("| stage | ~50 | ~500 | ~2000 |")
    print("|---|---|---|---|")
    for stage in dict.fromkeys(s["stage"] for s in report["stages"]):
        cells = [f"{s['cpu']['p50_ms']:.3f} / {s['cpu']['p99_ms']:.3f}"
                 for s in report["stages"] if s["stage"] == stage]
        print(f"| {stage} | {' | '.join(cells)} |")
    m = report["memory"]
    print(f"\nRSS: {m['bare_mb']:.1f} MB bare interpreter, "
          f"{m['runtime_built_mb']:.1f} MB with the runtime built, "
          f"{m['classifier_loaded_mb']:.1f} MB after loading the classifier and 200 classifications "
          f"(peak {m['peak_mb']:.1f} MB): classifier adds {m['added_by_classifier_mb']:.1f} MB "
          f"({m['added_from_bare_mb']:.1f} MB counting every import from a bare interpreter)")
    worst_p50 = max(r["wall"]["p50_ms"] for r in report["end_to_end"])
    worst_p99 = max(r["wall"]["p99_ms"] for r in report["end_to_end"])
    worst_cpu_p99 = max(r["cpu"]["p99_ms"] for r in report["end_to_end"])
    print("\ntargets:")
    print(f"  [{'met' if worst_p50 < 2 else 'NOT met'}] p50 < 2 ms: worst row {worst_p50:.3f} ms (wall)")
    print(f"  [{'met' if worst_p99 < 10 else 'NOT met'}] p99 < 10 ms: worst row {worst_p99:.3f} ms (wall; "
          f"CPU {worst_cpu_p99:.3f} ms)")
    added = m["added_by_classifier_mb"]
    print(f"  [{'met' if added < 300 else 'NOT met'}] memory added by the classifier < 300 MB: "
          f"{added:.1f} MB")


def git_state() -> str:
    """Which interlock is measured (``PYTHONPATH`` selects another tree), with its git commit."""
    import interlock

    src = Path(interlock.__file__).resolve().parent.parent
    try:
        def git(*args: str) -> str:
            done = subprocess.run(["git", *args], cwd=src, capture_output=True, text=True, check=True)
            return done.stdout.strip()

        head = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--", "interlock/routing", "interlock/data/classifier")
    except (OSError, subprocess.CalledProcessError):
        return f"interlock from {src}"
    changes = ", with uncommitted routing/classifier changes" if dirty else ""
    return f"interlock from {src} (git {head}{changes})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="passes over the prompts of each row")
    parser.add_argument("--prompts", type=int, default=100, help="distinct prompts per row")
    parser.add_argument("--profile", action="store_true",
                        help="also print a cProfile of the 2,000-token case")
    parser.add_argument("--top", type=int, default=25, help="functions shown by --profile")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    load_before = f"{os.getloadavg()[0]:.2f}"
    runtime = Runtime(load_config(CONFIG))
    runtime.classifier.load()
    gc.collect()
    end_to_end, stages = latency(runtime, args.rounds, args.prompts)
    report = {"load_average_before": load_before, "load_average_after": f"{os.getloadavg()[0]:.2f}",
              "rounds": args.rounds, "prompts": args.prompts, "git": git_state(),
              "end_to_end": end_to_end, "stages": stages, "memory": memory()}
    print_report(report)
    if args.profile:
        print("\ncProfile, 300 decisions on ~2,000-token prompts (one user message)\n")
        print(profile(runtime, args.top))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
