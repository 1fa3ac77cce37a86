"""Latency measurement for the classifier: realistic prompts of a given token size and percentiles.

Prompts are built from the training set's own text (seeded shuffle), so their vocabulary and
n-gram density look like real requests rather than repeated filler. Size is exact for a given
token counter, or the common estimate of 4 characters per token without one.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

CHARS_PER_TOKEN = 4
PROMPT_TOKENS = (50, 500, 2000)


@dataclass(frozen=True, slots=True)
class Latency:
    tokens: int
    p50_ms: float
    p99_ms: float
    mean_ms: float
    n: int

    def to_dict(self) -> dict[str, float | int]:
        return {
            "tokens": self.tokens,
            "p50_ms": round(self.p50_ms, 3),
            "p99_ms": round(self.p99_ms, 3),
            "mean_ms": round(self.mean_ms, 3),
            "n": self.n,
        }


def sample_prompts(
    texts: Sequence[str],
    tokens: int,
    count: int,
    seed: int = 0,
    count_tokens: Callable[[str], int] | None = None,
) -> list[str]:
    """``count`` distinct prompts of ``tokens`` tokens, each stitched from shuffled texts.

    With ``count_tokens`` each prompt is cut to exactly that many tokens of the given
    tokenizer (or the nearest below); without it, to ``tokens * CHARS_PER_TOKEN`` characters.
    """
    rng = random.Random(seed)
    target = tokens * CHARS_PER_TOKEN
    prompts: list[str] = []
    for _ in range(count):
        pieces: list[str] = []
        size = 0
        while size < target * 3:
            piece = rng.choice(texts)
            pieces.append(piece)
            size += len(piece) + 2
        text = "\n\n".join(pieces)
        prompts.append(_cut_to_tokens(text, tokens, count_tokens) if count_tokens else text[:target])
    return prompts


def _cut_to_tokens(text: str, tokens: int, count_tokens: Callable[[str], int]) -> str:
    low, high = 0, len(text)
    while low < high:  # longest prefix with at most ``tokens`` tokens
        mid = (low + high + 1) // 2
        if count_tokens(text[:mid]) <= tokens:
            low = mid
        else:
            high = mid - 1
    return text[:low]


def measure(
    call: Callable[[str], object],
    prompts: Sequence[str],
    tokens: int,
    rounds: int = 5,
    warmup: int = 20,
    clock: Callable[[], float] = time.perf_counter,
) -> Latency:
    """Per-call time over ``rounds`` passes through ``prompts`` (after a warm-up).

    ``clock`` is wall time by default; ``time.thread_time`` gives CPU time, which leaves out
    waiting for a core on a shared machine.
    """
    for prompt in prompts[:warmup]:
        call(prompt)
    samples: list[float] = []
    for _ in range(rounds):
        for prompt in prompts:
            started = clock()
            call(prompt)
            samples.append(clock() - started)
    ms = np.array(samples) * 1000.0
    return Latency(
        tokens=tokens,
        p50_ms=float(np.percentile(ms, 50)),
        p99_ms=float(np.percentile(ms, 99)),
        mean_ms=float(ms.mean()),
        n=len(ms),
    )
