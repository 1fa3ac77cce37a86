"""Maps prompt text to one sparse feature vector: TF-IDF views plus shape features.

Views: word 1-2 grams of the body (head and tail of a long prompt), character 3-4 grams of
a shorter head/tail window, word 1-2 grams of the instruction window (where the task is
usually stated), and ``features.shape_features``. The analyzers are plain functions used
both when fitting and at request time; ``transform_one`` maps n-grams to columns with one
dict lookup each and does the TF-IDF arithmetic in numpy.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import repeat
from typing import Any

import numpy as np

from interlock.routing.classifier.features import (
    BODY_HEAD,
    BODY_TAIL,
    INSTRUCTION_HEAD,
    INSTRUCTION_TAIL,
    SHAPE_FEATURES,
    clip,
    shape_features,
)

WORD_RE = re.compile(r"\w+")


def word_grams(text: str) -> list[str]:
    """Lower-cased word unigrams and bigrams."""
    tokens = WORD_RE.findall(text.lower())
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]


def char_grams(text: str, low: int = 3, high: int = 5) -> list[str]:
    """Lower-cased character n-grams over whitespace-normalised text."""
    flat = " " + " ".join(text.lower().split()) + " "
    grams: list[str] = []
    for n in range(low, high + 1):
        grams += [flat[i : i + n] for i in range(len(flat) - n + 1)]
    return grams


@dataclass(frozen=True, slots=True)
class VectorizerSettings:
    """What a candidate featurisation looks like; stored in the artifact."""

    body_words: bool = True
    body_chars: bool = True
    instruction_words: bool = True
    shape: bool = True
    body_window: tuple[int, int] = (BODY_HEAD, BODY_TAIL)
    char_window: tuple[int, int] = (300, 150)
    instruction_window: tuple[int, int] = (INSTRUCTION_HEAD, INSTRUCTION_TAIL)
    char_ngrams: tuple[int, int] = (3, 4)
    min_df: int = 2
    max_word_features: int = 20_000
    max_char_features: int = 30_000
    max_instruction_features: int = 8_000
    shape_scale: float = 1.0


@dataclass(frozen=True, slots=True)
class SparseRow:
    """One prompt's features: column indices (unique) and their values."""

    indices: np.ndarray
    values: np.ndarray


class _View:
    """One TF-IDF view: which window of the text, which analyzer, and its fitted vocabulary."""

    def __init__(self, name: str, window: tuple[int, int], analyzer: Callable[[str], list[str]], max_features: int, min_df: int) -> None:
        self.name = name
        self.select = partial(clip, head=window[0], tail=window[1])
        self.analyzer = analyzer
        self.max_features = max_features
        self.min_df = min_df
        self.offset = 0
        self.vocabulary: dict[str, int] = {}
        self.idf = np.zeros(0)

    def fit(self, texts: Sequence[str], offset: int) -> int:
        # scikit-learn is needed to fit, not to serve: the artifact keeps only vocabulary and idf.
        from sklearn.feature_extraction.text import TfidfVectorizer

        tfidf = TfidfVectorizer(analyzer=self.analyzer, sublinear_tf=True, min_df=self.min_df, max_features=self.max_features)
        tfidf.fit([self.select(t) for t in texts])
        self.offset = offset
        self.vocabulary = {term: int(col) for term, col in tfidf.vocabulary_.items()}
        self.idf = tfidf.idf_.astype(np.float64)
        return len(self.vocabulary)

    def row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        grams = self.analyzer(self.select(text))
        hits = np.fromiter(map(self.vocabulary.get, grams, repeat(-1)), dtype=np.int64, count=len(grams))
        hits = hits[hits >= 0]
        if not len(hits):
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        cols, counts = np.unique(hits, return_counts=True)
        values = (1.0 + np.log(counts)) * self.idf[cols]
        return cols + self.offset, values / np.sqrt(values @ values)


class PromptVectorizer:
    """Fit on training texts, then turn any prompt text into a feature row."""

    def __init__(self, settings: VectorizerSettings | None = None) -> None:
        s = settings or VectorizerSettings()
        self.settings = s
        self.views: list[_View] = []
        if s.body_words:
            self.views.append(_View("body_word", s.body_window, word_grams, s.max_word_features, s.min_df))
        if s.body_chars:
            chars = partial(char_grams, low=s.char_ngrams[0], high=s.char_ngrams[1])
            self.views.append(_View("body_char", s.char_window, chars, s.max_char_features, s.min_df))
        if s.instruction_words:
            self.views.append(_View("instruction_word", s.instruction_window, word_grams, s.max_instruction_features, s.min_df))
        self.n_features = 0
        self.shape_offset = 0

    def fit(self, texts: Sequence[str]) -> PromptVectorizer:
        offset = 0
        for view in self.views:
            offset += view.fit(texts, offset)
        self.shape_offset = offset
        self.n_features = offset + (len(SHAPE_FEATURES) if self.settings.shape else 0)
        return self

    def transform(self, texts: Sequence[str]) -> Any:
        """Batch path (training and evaluation): a scipy CSR matrix of the same rows as ``transform_one``."""
        import scipy.sparse as sp

        rows = [self.transform_one(t) for t in texts]
        indptr = np.cumsum([0] + [len(r.indices) for r in rows])
        indices = np.concatenate([r.indices for r in rows])
        values = np.concatenate([r.values for r in rows])
        return sp.csr_matrix((values, indices, indptr), shape=(len(rows), self.n_features))

    def transform_one(self, text: str) -> SparseRow:
        parts = [view.row(text) for view in self.views]
        if self.settings.shape:
            shape = shape_features(text) * self.settings.shape_scale
            parts.append((np.arange(self.shape_offset, self.shape_offset + len(shape)), shape))
        return SparseRow(indices=np.concatenate([p[0] for p in parts]), values=np.concatenate([p[1] for p in parts]))

    def feature_names(self) -> list[str]:
        names = [""] * self.n_features
        for view in self.views:
            for term, col in view.vocabulary.items():
                names[view.offset + col] = f"{view.name}:{term}"
        if self.settings.shape:
            for i, name in enumerate(SHAPE_FEATURES):
                names[self.shape_offset + i] = f"shape:{name}"
        return names
