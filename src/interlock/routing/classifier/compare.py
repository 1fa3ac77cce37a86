"""Model selection: cross-validated accuracy and request-time latency of candidate recipes.

    python -m interlock.routing.classifier.compare [--out FILE] [--only NAME ...]

Each candidate is a ``TrainSettings``; it is scored by 5-fold cross-validation on the
training set (macro-F1, difficulty MAE) and timed on 50/500/2000-token prompts, all
candidates round-robin so that load from other processes affects them alike. The held-out
set is not used here, so choosing a candidate cannot leak it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from interlock.routing.classifier.dataset import TRAIN_FILE, load_prompts
from interlock.routing.classifier.model import RequestClassifier
from interlock.routing.classifier.timing import PROMPT_TOKENS, Latency, measure, sample_prompts
from interlock.routing.classifier.train import TrainSettings, cross_validate, fit_artifact
from interlock.routing.classifier.vectorizer import VectorizerSettings

REPO_ROOT = Path(__file__).resolve().parents[4]
DEFAULT_OUT = REPO_ROOT / "benchmarks" / "classifier" / "candidates.json"


# Vocabulary caps (word, char, instruction) are 20k/30k/8k unless a name says otherwise.
def _candidate(
    body: tuple[int, int] = (600, 300),
    chars: tuple[int, int] | None = (200, 100),
    ngrams: tuple[int, int] = (3, 4),
    instruction: bool = True,
    shape: bool = True,
    head: str = "svm",
    c: float = 0.5,
    vocabulary: tuple[int, int, int] = (20_000, 30_000, 8_000),
) -> TrainSettings:
    vectorizer = VectorizerSettings(
        max_word_features=vocabulary[0],
        max_char_features=vocabulary[1],
        max_instruction_features=vocabulary[2],
        body_window=body,
        body_chars=chars is not None,
        char_window=chars or (0, 0),
        char_ngrams=ngrams,
        instruction_words=instruction,
        shape=shape,
    )
    return TrainSettings(vectorizer=vectorizer, head=head, c=c)  # type: ignore[arg-type]


CANDIDATES: dict[str, TrainSettings] = {
    "words 1200/600 | svm": _candidate((1200, 600), None, instruction=False, shape=False),
    "words 600/300 + instr + shape | svm": _candidate((600, 300), None),
    "words 600/300 + instr + shape | logreg C=20": _candidate((600, 300), None, head="logreg", c=20.0),
    "words 1200/600 + chars 1200/600 (3-5) + instr + shape | svm": _candidate(
        (1200, 600), (1200, 600), (3, 5)
    ),
    "words 1200/600 + chars 600/300 (3-5) + instr + shape | svm": _candidate((1200, 600), (600, 300), (3, 5)),
    "words 1200/600 + chars 300/150 (3-5) + instr + shape | svm": _candidate((1200, 600), (300, 150), (3, 5)),
    "words 1200/600 + chars 300/150 (3-5) + instr + shape | svm C=1": _candidate(
        (1200, 600), (300, 150), (3, 5), c=1.0
    ),
    "words 1200/600 + chars 300/150 (3-5) + instr + shape | logreg C=50": _candidate(
        (1200, 600), (300, 150), (3, 5), head="logreg", c=50.0
    ),
    "words 1200/600 + chars 300/150 (3-4) + instr + shape | svm": _candidate((1200, 600), (300, 150)),
    "words 600/300 + chars 300/150 (3-4) + instr + shape | svm": _candidate((600, 300), (300, 150)),
    "words 800/400 + chars 200/100 (3-4) + instr + shape | svm": _candidate((800, 400), (200, 100)),
    "words 600/300 + chars 200/100 (3-4) + instr + shape | svm": _candidate((600, 300), (200, 100)),
    "same, vocabulary capped 8k/8k/4k | svm": _candidate(
        (600, 300), (200, 100), vocabulary=(8_000, 8_000, 4_000)
    ),
}
CHOSEN = "same, vocabulary capped 8k/8k/4k | svm"


def compare(names: Sequence[str], rounds: int = 5) -> dict[str, dict[str, Any]]:
    prompts = load_prompts(TRAIN_FILE)
    results: dict[str, dict[str, Any]] = {}
    models: dict[str, RequestClassifier] = {}
    for name in names:
        settings = CANDIDATES[name]
        cv = cross_validate(prompts, settings)
        models[name] = RequestClassifier(fit_artifact(prompts, settings))
        results[name] = {
            "cv_macro_f1": round(float(cv["macro_f1"]), 4),
            "cv_accuracy": round(float(cv["accuracy"]), 4),
            "cv_difficulty_mae": round(float(cv["difficulty_mae"]), 4),
            "n_features": models[name].artifact.vectorizer.n_features,
        }
        print(f"{name}: cv macro-F1 {cv['macro_f1']:.3f}", flush=True)
    texts = [p.text for p in prompts]
    for tokens in PROMPT_TOKENS:
        batch = sample_prompts(texts, tokens, 100, seed=tokens)
        for name, latency in _interleaved_latency(models, batch, tokens, rounds).items():
            results[name].setdefault("latency_ms", {})[tokens] = latency
    for name in names:
        cpu = " ".join(
            f"{t}:{v['cpu']['p50_ms']:.2f}/{v['cpu']['p99_ms']:.2f}"
            for t, v in results[name]["latency_ms"].items()
        )
        print(f"{name}: cpu p50/p99 ms {cpu}", flush=True)
    return results


def _interleaved_latency(
    models: dict[str, RequestClassifier], batch: list[str], tokens: int, rounds: int
) -> dict[str, dict[str, object]]:
    """Time every candidate round-robin, so load from other processes hits them alike."""
    samples: dict[str, dict[str, list[Latency]]] = {name: {"wall": [], "cpu": []} for name in models}
    for _ in range(rounds):
        for name, model in models.items():
            call = partial(_classify, model)
            samples[name]["wall"].append(measure(call, batch, tokens, rounds=1))
            samples[name]["cpu"].append(measure(call, batch, tokens, rounds=1, clock=time.thread_time))
    return {
        name: {clock: _merge(runs) for clock, runs in by_clock.items()} for name, by_clock in samples.items()
    }


def _classify(model: RequestClassifier, prompt: str) -> object:
    return model.classify([{"role": "user", "content": prompt}])


def _merge(runs: list[Latency]) -> dict[str, float | int]:
    """Median over rounds of each round's percentiles."""
    return {
        "p50_ms": round(float(np.median([r.p50_ms for r in runs])), 3),
        "p99_ms": round(float(np.median([r.p99_ms for r in runs])), 3),
        "n": sum(r.n for r in runs),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--only", nargs="*", choices=sorted(CANDIDATES), help="candidates to run (default: all)"
    )
    args = parser.parse_args(argv)
    results = compare(args.only or list(CANDIDATES))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
