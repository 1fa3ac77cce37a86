"""Reads RouteLLM's released evaluation outcomes (MMLU, GSM8K) and drops contaminated prompts.

The files come from the RouteLLM repository (Apache-2.0), folder ``routellm/evals``:
``mmlu/responses/mmlu_<domain>.csv`` and ``gsm8k/gsm8k_responses.csv`` hold each prompt and
whether Mixtral-8x7B-Instruct (weak) and GPT-4-1106-preview (strong) answered it correctly;
``<benchmark>/contaminated_prompts.jsonl`` lists the prompts RouteLLM drops (``eval_prompt``).
"""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

WEAK = "mistralai/Mixtral-8x7B-Instruct-v0.1"
STRONG = "gpt-4-1106-preview"
CHARS_PER_TOKEN = 4


@dataclass(frozen=True, slots=True)
class Outcomes:
    """One benchmark's prompts, each model's correctness, and its output tokens per prompt."""

    name: str
    prompts: list[str]
    weak_correct: np.ndarray
    strong_correct: np.ndarray
    weak_output_tokens: np.ndarray
    strong_output_tokens: np.ndarray
    dropped: int

    def labels(self, kind: str) -> np.ndarray:
        """``binary``: 1 when the weak model did at least as well (weak >= strong);
        ``three-level``: 1 when only the weak model was right, 0.5 when both did the same."""
        if kind == "binary":
            return (self.weak_correct >= self.strong_correct).astype(np.float64)
        if kind == "three-level":
            return (1.0 + self.weak_correct - self.strong_correct) / 2.0
        raise ValueError(f"unknown label kind {kind!r}")


def _contaminated(path: Path) -> set[str]:
    with path.open(encoding="utf-8") as lines:
        return {json.loads(line)["eval_prompt"] for line in lines if line.strip()}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _truth(value: str) -> float:
    if value not in ("True", "False"):
        raise ValueError(f"expected True or False, got {value!r}")
    return 1.0 if value == "True" else 0.0


def _outcomes(
    name: str, rows: list[dict[str, str]], contaminated: set[str], with_responses: bool
) -> Outcomes:
    kept = [r for r in rows if r["prompt"] not in contaminated]

    def output_tokens(model: str) -> np.ndarray:
        if not with_responses:  # MMLU answers are one letter: one output token
            return np.ones(len(kept))
        return np.array(
            [max(1, len(r[f"{model}_response"]) // CHARS_PER_TOKEN) for r in kept], dtype=np.float64
        )

    return Outcomes(
        name=name,
        prompts=[r["prompt"] for r in kept],
        weak_correct=np.array([_truth(r[WEAK]) for r in kept]),
        strong_correct=np.array([_truth(r[STRONG]) for r in kept]),
        weak_output_tokens=output_tokens(WEAK),
        strong_output_tokens=output_tokens(STRONG),
        dropped=len(rows) - len(kept),
    )


def load_mmlu(evals: Path) -> Outcomes:
    csv.field_size_limit(sys.maxsize)
    files = sorted((evals / "mmlu" / "responses").glob("mmlu_*.csv"))
    if not files:
        raise FileNotFoundError(f"no mmlu/responses/mmlu_*.csv under {evals}")
    rows = [row for path in files for row in _rows(path)]
    return _outcomes("MMLU", rows, _contaminated(evals / "mmlu" / "contaminated_prompts.jsonl"), False)


def load_gsm8k(evals: Path) -> Outcomes:
    csv.field_size_limit(sys.maxsize)
    rows = _rows(evals / "gsm8k" / "gsm8k_responses.csv")
    return _outcomes("GSM8K", rows, _contaminated(evals / "gsm8k" / "contaminated_prompts.jsonl"), True)
