"""Benchmark of the request classifier: classify() latency and the memory that loading adds.

    PYTHONPATH=src .venv/bin/python benchmarks/classifier/bench_classifier.py          # table
    PYTHONPATH=src .venv/bin/python benchmarks/classifier/bench_classifier.py --json   # JSON

Prompts of 50, 500 and 2,000 tokens (SmolLM2 tokenizer of the embedded model when available,
else 4 characters a token) are stitched from the training prompts; each size is timed as one
user message and as a conversation (system prompt, two earlier turns, then the prompt).
Memory is measured in a fresh interpreter: RSS before importing the classifier, after
importing it, and after loading the artifact and classifying 200 prompts.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from interlock.routing.classifier import RequestClassifier
from interlock.routing.classifier.dataset import TRAIN_FILE, load_prompts
from interlock.routing.classifier.timing import PROMPT_TOKENS, measure, sample_prompts

SYSTEM = "You are an assistant for Northwind Bank's operations team. Be precise and concise."
EARLIER = [
    {"role": "user", "content": "Hi, I have a question about a document."},
    {"role": "assistant", "content": "Of course, please share it."},
]

MEMORY_PROBE = """
import json, resource, sys
def rss_mb():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
import interlock.errors
before = rss_mb()
from interlock.routing.classifier import RequestClassifier
imported = rss_mb()
classifier = RequestClassifier.load()
for i in range(200):
    classifier.classify([{"role": "user", "content": "Translate into French: invoice number %d is overdue. " % i * (1 + i % 40)}])
loaded = rss_mb()
print(json.dumps({"before_mb": before, "after_import_mb": imported, "after_load_mb": loaded,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "sklearn_imported": "sklearn" in sys.modules, "scipy_imported": "scipy" in sys.modules}))
"""


def token_counter() -> tuple[Callable[[str], int] | None, str]:
    try:
        from interlock.routing.tokens import count_text

        count_text("warm up")
        return count_text, "SmolLM2 tokenizer (embedded model)"
    except (ImportError, OSError):  # tiktoken or the tokenizer data is missing: use the estimate
        return None, "estimate: 4 characters per token"


def latency(rounds: int) -> tuple[list[dict[str, Any]], str]:
    classifier = RequestClassifier.load()
    texts = [p.text for p in load_prompts(TRAIN_FILE)]
    count_tokens, tokenizer = token_counter()
    rows: list[dict[str, Any]] = []
    for tokens in PROMPT_TOKENS:
        prompts = sample_prompts(texts, tokens, 100, seed=tokens, count_tokens=count_tokens)
        shapes: dict[str, Callable[[str], object]] = {
            "one user message": lambda p: classifier.classify([{"role": "user", "content": p}]),
            "system + 2 turns + prompt": lambda p: classifier.classify(
                [
                    {"role": "system", "content": SYSTEM},
                    *EARLIER,
                    {"role": "user", "content": [{"type": "text", "text": p}]},
                ]
            ),
        }
        for shape, call in shapes.items():
            wall = measure(call, prompts, tokens, rounds=rounds)
            cpu = measure(call, prompts, tokens, rounds=rounds, clock=time.thread_time)
            rows.append(
                {
                    "tokens": tokens,
                    "shape": shape,
                    "chars": int(sum(map(len, prompts)) / len(prompts)),
                    "wall": wall.to_dict(),
                    "cpu": cpu.to_dict(),
                }
            )
    return rows, tokenizer


def memory() -> dict[str, Any]:
    env = dict(os.environ)
    src = os.path.join(os.path.dirname(__file__), "..", "..", "src")
    env["PYTHONPATH"] = os.path.abspath(src) + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE], env=env, capture_output=True, text=True, check=True
    )
    result: dict[str, Any] = json.loads(out.stdout)
    result["added_mb"] = result["after_load_mb"] - result["before_mb"]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--rounds", type=int, default=5, help="passes over the 100 prompts of each size")
    args = parser.parse_args()
    rows, tokenizer = latency(args.rounds)
    report = {"load_average": os.getloadavg(), "tokenizer": tokenizer, "latency": rows, "memory": memory()}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"load average {report['load_average'][0]:.2f}; prompt sizes by {tokenizer}")
    print(f"{'tokens':>6}  {'shape':<26}{'wall p50':>9}{'wall p99':>9}{'cpu p50':>9}{'cpu p99':>9}  (ms)")
    for row in rows:
        w, c = row["wall"], row["cpu"]
        print(
            f"{row['tokens']:>6}  {row['shape']:<26}{w['p50_ms']:>9.3f}{w['p99_ms']:>9.3f}{c['p50_ms']:>9.3f}{c['p99_ms']:>9.3f}"
        )
    mem = report["memory"]
    print(
        f"RSS: {mem['before_mb']:.1f} MB before import, {mem['after_import_mb']:.1f} MB after import, "
        f"{mem['after_load_mb']:.1f} MB loaded; added {mem['added_mb']:.1f} MB "
        f"(scikit-learn imported: {mem['sklearn_imported']}, scipy imported: {mem['scipy_imported']})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
