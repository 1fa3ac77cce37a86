"""Per-prompt router on RouteLLM's released outcomes: which features route best, and how fast.

    PYTHONPATH=src .venv/bin/python benchmarks/routing_economics/prompt_router_bench.py --data PATH
    INTERLOCK_ROUTELLM_EVALS=PATH PYTHONPATH=src .venv/bin/python benchmarks/routing_economics/prompt_router_bench.py

PATH is RouteLLM's ``routellm/evals`` folder (see README.md). For each candidate feature set,
MMLU and GSM8K are each split into 5 seeded folds; a router fitted on 4 folds scores the fifth,
and APGR and AIQ are computed over all the held-out scores together. Fit time is one fit on all
of MMLU; latency is ``PromptRouter.score`` on 2,000-token prompts (4 characters a token), as
wall-clock and as CPU time (p50 / p99 of 600 calls each).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from routellm_data import CHARS_PER_TOKEN, Outcomes, load_gsm8k, load_mmlu

from interlock.evaluation.router_metrics import aiq, apgr
from interlock.routing.classifier.timing import measure, sample_prompts
from interlock.routing.prompt_router import PromptRouter, PromptRouterSettings, out_of_fold_scores

ENV = "INTERLOCK_ROUTELLM_EVALS"
# USD per million tokens (list prices): GPT-4-1106-preview, and Mixtral-8x7B at a typical host.
STRONG_PRICE = {"input": 10.0, "output": 30.0}
WEAK_PRICE = {"input": 0.60, "output": 0.60}
LATENCY_TOKENS = 2_000
BASE = PromptRouterSettings(evaluation_folds=0)


@dataclass(frozen=True, slots=True)
class Candidate:
    name: str
    settings: PromptRouterSettings | None  # None: a fixed rule, not trained
    label: str = "three-level"


CANDIDATES = (
    Candidate("random (seeded)", None, "-"),
    Candidate("prompt length (shorter: weak)", None, "-"),
    Candidate("shape only", replace(BASE, word_ngrams=0)),
    Candidate("word 1-2 tf-idf", replace(BASE, shape=False)),
    Candidate("char 2-4 tf-idf", replace(BASE, word_ngrams=0, char_ngrams=(2, 4), shape=False)),
    Candidate("hashed word 1-2 (2^18) + shape", replace(BASE, hash_buckets=2**18)),
    Candidate("word 1-2 + char 2-4 + shape", replace(BASE, char_ngrams=(2, 4))),
    Candidate("word 1-2 + shape (default)", BASE),
    Candidate("word 1-2 + shape (default)", BASE, "binary"),
)


def costs(data: Outcomes) -> tuple[np.ndarray, np.ndarray]:
    """Per-prompt USD for each model: prompt tokens (characters / 4) in, its own answer out."""
    prompt_tokens = np.array([len(p) / CHARS_PER_TOKEN for p in data.prompts])
    weak = (prompt_tokens * WEAK_PRICE["input"] + data.weak_output_tokens * WEAK_PRICE["output"]) / 1e6
    strong = (
        prompt_tokens * STRONG_PRICE["input"] + data.strong_output_tokens * STRONG_PRICE["output"]
    ) / 1e6
    return weak, strong


def fixed_scores(name: str, data: Outcomes) -> np.ndarray:
    if name.startswith("random"):
        return np.random.default_rng(0).random(len(data.prompts))
    return -np.array([len(p) for p in data.prompts], dtype=np.float64)


def evaluate(candidate: Candidate, data: Outcomes, jobs: int) -> dict[str, float]:
    if candidate.settings is None:
        scores = fixed_scores(candidate.name, data)
    else:
        scores = out_of_fold_scores(
            data.prompts, data.labels(candidate.label), candidate.settings, 5, 0, jobs=jobs
        )
    weak_cost, strong_cost = costs(data)
    return {
        "apgr": apgr(scores, data.weak_correct, data.strong_correct),
        "aiq": aiq(scores, data.weak_correct, data.strong_correct, weak_cost, strong_cost),
    }


def speed(candidate: Candidate, data: Outcomes) -> dict[str, float]:
    assert candidate.settings is not None
    started = time.perf_counter()
    router = PromptRouter.fit(data.prompts, data.labels(candidate.label), candidate.settings)
    fit_s = time.perf_counter() - started
    prompts = sample_prompts(data.prompts, LATENCY_TOKENS, 200, seed=0)
    wall = measure(router.score, prompts, LATENCY_TOKENS, rounds=3)
    # CPU time leaves out waiting for a core, which other work on a shared machine adds to wall time.
    cpu = measure(router.score, prompts, LATENCY_TOKENS, rounds=3, clock=time.thread_time)
    return {
        "fit_s": fit_s,
        "p50_ms": wall.p50_ms,
        "p99_ms": wall.p99_ms,
        "cpu_p50_ms": cpu.p50_ms,
        "cpu_p99_ms": cpu.p99_ms,
    }


def references(data: Outcomes) -> dict[str, Any]:
    weak_cost, strong_cost = costs(data)
    oracle = data.weak_correct - data.strong_correct
    return {
        "prompts": len(data.prompts),
        "dropped_contaminated": data.dropped,
        "weak_accuracy": round(float(data.weak_correct.mean()), 4),
        "strong_accuracy": round(float(data.strong_correct.mean()), 4),
        "weak_usd_per_1k": round(float(weak_cost.mean() * 1000), 4),
        "strong_usd_per_1k": round(float(strong_cost.mean() * 1000), 4),
        "oracle_apgr": round(apgr(oracle, data.weak_correct, data.strong_correct), 4),
        "oracle_aiq": round(aiq(oracle, data.weak_correct, data.strong_correct, weak_cost, strong_cost), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=os.environ.get(ENV), help=f"RouteLLM routellm/evals (or ${ENV})"
    )
    parser.add_argument("--jobs", type=int, default=2, help="folds fitted in parallel")
    parser.add_argument("--only", help="run only candidates whose name contains this")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args()
    if args.data is None:
        parser.error(f"give --data or set {ENV} to RouteLLM's routellm/evals folder (see README.md)")
    benchmarks = [load_mmlu(args.data), load_gsm8k(args.data)]
    mmlu = benchmarks[0]
    rows = []
    for candidate in CANDIDATES:
        if args.only and args.only not in candidate.name:
            continue
        row: dict[str, Any] = {"candidate": candidate.name, "label": candidate.label}
        for data in benchmarks:
            for metric, value in evaluate(candidate, data, args.jobs).items():
                row[f"{metric}_{data.name.lower()}"] = round(value, 4)
        if candidate.settings is not None:
            row.update({k: round(v, 3) for k, v in speed(candidate, mmlu).items()})
        rows.append(row)
        if not args.json:
            print(_line(row), flush=True)
    refs = {data.name: references(data) for data in benchmarks}
    if args.json:
        print(json.dumps({"references": refs, "candidates": rows}, indent=2))
    else:
        print(json.dumps(refs, indent=2))


def _line(row: dict[str, Any]) -> str:
    timing = (
        f"{row['fit_s']:6.1f} s  wall {row['p50_ms']:5.2f} / {row['p99_ms']:5.2f} ms"
        f"  cpu {row['cpu_p50_ms']:5.2f} / {row['cpu_p99_ms']:5.2f} ms"
        if "fit_s" in row
        else "      -"
    )
    return (
        f"{row['candidate']:<32} {row['label']:<11} APGR {row['apgr_mmlu']:.3f} / {row['apgr_gsm8k']:.3f}"
        f"  AIQ {row['aiq_mmlu']:.4f} / {row['aiq_gsm8k']:.4f}  {timing}"
    )


if __name__ == "__main__":
    main()
