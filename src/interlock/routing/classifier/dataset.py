"""Labeled prompt sets (JSON lines of text, category, difficulty): loading and validation."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from interlock.routing.classifier.categories import DATA_DIR, category_names

TRAIN_FILE = DATA_DIR / "train.jsonl"
HELDOUT_FILE = DATA_DIR / "heldout.jsonl"

# Training prompts whose word set overlaps a held-out prompt this much were removed from the
# training set, so the held-out score measures generalisation (docs/classifier.md).
NEAR_DUPLICATE_JACCARD = 0.6
_WORDS = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class LabeledPrompt:
    text: str
    category: str
    difficulty: float


def load_prompts(path: Path, categories: Iterable[str] | None = None) -> list[LabeledPrompt]:
    """Read a prompt set; any bad line raises ``ValueError`` naming the file and line."""
    known = frozenset(categories if categories is not None else category_names())
    prompts: list[LabeledPrompt] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path.name}:{number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where}: not valid JSON ({exc.msg})") from exc
        text, category, difficulty = raw.get("text"), raw.get("category"), raw.get("difficulty")
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{where}: 'text' must be a non-empty string")
        if category not in known:
            raise ValueError(f"{where}: unknown category {category!r}")
        if not isinstance(difficulty, (int, float)) or not 0.0 <= difficulty <= 1.0:
            raise ValueError(f"{where}: 'difficulty' must be a number in [0, 1]")
        prompts.append(LabeledPrompt(text=text, category=category, difficulty=float(difficulty)))
    if not prompts:
        raise ValueError(f"{path}: no prompts")
    return prompts


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def word_set(text: str) -> frozenset[str]:
    return frozenset(_WORDS.findall(text.lower()))


def near_duplicates(
    a: Sequence[LabeledPrompt], b: Sequence[LabeledPrompt], threshold: float = NEAR_DUPLICATE_JACCARD
) -> list[tuple[int, int, float]]:
    """Pairs ``(i, j, jaccard)`` whose word sets overlap at least ``threshold`` (train/held-out hygiene)."""
    b_sets = [word_set(p.text) for p in b]
    pairs: list[tuple[int, int, float]] = []
    for i, prompt in enumerate(a):
        words = word_set(prompt.text)
        for j, other in enumerate(b_sets):
            union = len(words | other)
            if union and len(words & other) / union >= threshold:
                pairs.append((i, j, len(words & other) / union))
    return pairs
