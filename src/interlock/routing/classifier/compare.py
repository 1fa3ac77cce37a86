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

import numpy as np

from interlock.routing.classifier.dataset import TRAIN_FILE, load_prompts
from interlock.routing.classifier.model import RequestClassifier
from interlock.routing.classifier.timing import PROMPT_TOKENS, Latency, measure, sample_prompts
from interlock.routing.classifier.train import TrainSettings, cross_validate, fit_artifact
from interlock.routing.classifier.vectorizer import VectorizerSettings

REPO_ROOT = Path(__file__).resolve().parents[4]
DEFAULT_OUT = REPO_ROOT / "benchmarks" / "classifier" / "candidates.json"

def _chars(window: tuple[int, int], ngrams: tuple[int, int] = (3, 5)) -> VectorizerSettings:
    return VectorizerSettings(char_window=window, char_ngrams=ngrams)


NO_CHARS = VectorizerSettings(body_chars=False)
CANDIDATES: dict[str, TrainSettings] = {
    "words_only_body": TrainSettings(vectorizer=VectorizerSettings(body_chars=False, instruction_words=False, shape=False), head="svm", c=0.5),
    "words+instruction+shape": TrainSettings(vectorizer=NO_CHARS, head="svm", c=0.5),
    "words+chars(300/150)+instruction+shape": TrainSettings(vectorizer=_chars((300, 150)), head="svm", c=0.5),
    "words+chars(600/300)+instruction+shape": TrainSettings(vectorizer=_chars((600, 300)), head="svm", c=0.5),
    "words+chars(1200/600)+instruction+shape": TrainSettings(vectorizer=_chars((1200, 600)), head="svm", c=0.5),
    "words+chars(300/150, 3-4)+instruction+shape": TrainSettings(vectorizer=_chars((300, 150), (3, 4)), head="svm", c=0.5),
    "words+chars(300/150)+instruction+shape, C=1": TrainSettings(vectorizer=_chars((300, 150)), head="svm", c=1.0),
    "words+chars(300/150)+instruction+shape, logreg C=50": TrainSettings(vectorizer=_chars((300, 150)), head="logreg", c=50.0),
    "words+chars(600/300)+instruction+shape, logreg": TrainSettings(vectorizer=_chars((600, 300)), head="logreg", c=20.0),
    "words+instruction+shape, logreg": TrainSettings(vectorizer=NO_CHARS, head="logreg", c=20.0),
}
CHOSEN = "words+chars(300/150, 3-4)+instruction+shape"


def compare(names: Sequence[str], rounds: int = 5) -> dict[str, dict[str, object]]:
    prompts = load_prompts(TRAIN_FILE)
    results: dict[str, dict[str, object]] = {}
    models: dict[str, RequestClassifier] = {}
    for name in names:
        settings = CANDIDATES[name]
        cv = cross_validate(prompts, settings)
        models[name] = RequestClassifier(fit_artifact(prompts, settings))
        results[name] = {
            "cv_macro_f1": round(float(cv["macro_f1"]), 4),  # type: ignore[arg-type]
            "cv_accuracy": round(float(cv["accuracy"]), 4),  # type: ignore[arg-type]
            "cv_difficulty_mae": round(float(cv["difficulty_mae"]), 4),  # type: ignore[arg-type]
            "n_features": models[name].artifact.vectorizer.n_features,
        }
        print(f"{name}: cv macro-F1 {cv['macro_f1']:.3f}", flush=True)
    texts = [p.text for p in prompts]
    for tokens in PROMPT_TOKENS:
        batch = sample_prompts(texts, tokens, 100, seed=tokens)
        for name, latency in _interleaved_latency(models, batch, tokens, rounds).items():
            results[name].setdefault("latency_ms", {})[tokens] = latency  # type: ignore[union-attr]
    for name in names:
        cpu = " ".join(f"{t}:{v['cpu']['p50_ms']:.2f}/{v['cpu']['p99_ms']:.2f}" for t, v in results[name]["latency_ms"].items())  # type: ignore[union-attr]
        print(f"{name}: cpu p50/p99 ms {cpu}", flush=True)
    return results


def _interleaved_latency(models: dict[str, RequestClassifier], batch: list[str], tokens: int, rounds: int) -> dict[str, dict[str, object]]:
    """Time every candidate round-robin, so load from other processes hits them alike."""
    samples: dict[str, dict[str, list[Latency]]] = {name: {"wall": [], "cpu": []} for name in models}
    for _ in range(rounds):
        for name, model in models.items():
            call = partial(_classify, model)
            samples[name]["wall"].append(measure(call, batch, tokens, rounds=1))
            samples[name]["cpu"].append(measure(call, batch, tokens, rounds=1, clock=time.thread_time))
    return {name: {clock: _merge(runs) for clock, runs in by_clock.items()} for name, by_clock in samples.items()}


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
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--only", nargs="*", choices=sorted(CANDIDATES), help="candidates to run (default: all)")
    args = parser.parse_args(argv)
    results = compare(args.only or list(CANDIDATES))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
