"""Maps prompt text to one sparse feature vector: TF-IDF views plus shape features.

Views: word 1-2 grams of the body (head and tail of a long prompt), character 3-4 grams of
a shorter head/tail window, word 1-2 grams of the instruction window (where the task is
usually stated), and ``features.shape_features``. The analyzers are plain functions used
both when fitting and at request time; ``transform_one`` maps n-grams to columns with one
dict lookup each and does the TF-IDF arithmetic in numpy; the word views of a short prompt
share one tokenisation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import pairwise, repeat
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
    return tokens + [f"{a} {b}" for a, b in pairwise(tokens)]


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
    char_window: tuple[int, int] = (200, 100)
    instruction_window: tuple[int, int] = (INSTRUCTION_HEAD, INSTRUCTION_TAIL)
    char_ngrams: tuple[int, int] = (3, 4)
    min_df: int = 2
    max_word_features: int = 8_000
    max_char_features: int = 8_000
    max_instruction_features: int = 4_000
    shape_scale: float = 1.0


@dataclass(frozen=True, slots=True)
class SparseRow:
    """One prompt's features: column indices (unique) and their values."""

    indices: np.ndarray
    values: np.ndarray


class _View:
    """One TF-IDF view: which window of the text, which analyzer, and its fitted vocabulary.

    The vocabulary maps each n-gram straight to its column in the whole feature vector.
    """

    def __init__(
        self,
        name: str,
        window: tuple[int, int],
        analyzer: Callable[[str], list[str]],
        max_features: int,
        min_df: int,
    ) -> None:
        self.name = name
        self.select = partial(clip, head=window[0], tail=window[1])
        self.analyzer = analyzer
        self.max_features = max_features
        self.min_df = min_df
        self.vocabulary: dict[str, int] = {}

    def fit(self, texts: Sequence[str], offset: int) -> np.ndarray:
        """Learn vocabulary and idf; returns the idf of this view's columns in order."""
        # scikit-learn is needed to fit, not to serve: the artifact keeps only vocabulary and idf.
        from sklearn.feature_extraction.text import TfidfVectorizer

        tfidf = TfidfVectorizer(
            analyzer=self.analyzer, sublinear_tf=True, min_df=self.min_df, max_features=self.max_features
        )
        tfidf.fit([self.select(t) for t in texts])
        self.vocabulary = {term: offset + int(col) for term, col in tfidf.vocabulary_.items()}
        return np.asarray(tfidf.idf_, dtype=np.float64)

    def columns(self, grams: list[str]) -> np.ndarray:
        """The column of every known n-gram (unknown ones dropped), one dict lookup each."""
        hits = np.fromiter(map(self.vocabulary.get, grams, repeat(-1)), dtype=np.intp, count=len(grams))
        return hits[hits >= 0]


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
            self.views.append(
                _View(
                    "instruction_word", s.instruction_window, word_grams, s.max_instruction_features, s.min_df
                )
            )
        self.idf = np.zeros(0)
        self.view_starts = np.zeros(0, dtype=np.intp)
        self.n_features = 0
        self.shape_offset = 0

    def fit(self, texts: Sequence[str]) -> PromptVectorizer:
        parts: list[np.ndarray] = []
        for view in self.views:
            parts.append(view.fit(texts, sum(len(p) for p in parts)))
        self.view_starts = np.cumsum([0] + [len(p) for p in parts[:-1]])
        self.idf = np.concatenate(parts)
        self.shape_offset = len(self.idf)
        self.n_features = len(self.idf) + (len(SHAPE_FEATURES) if self.settings.shape else 0)
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
        """Sublinear TF-IDF per view, each view L2-normalised (as scikit-learn computes it), then shape."""
        hits: list[np.ndarray] = []
        last: tuple[object, str, list[str]] | None = None
        for view in self.views:
            selected = view.select(text)
            # Short prompts fit every window whole: the word views then share one tokenisation.
            if last is not None and last[0] == view.analyzer and last[1] is selected:
                grams = last[2]
            else:
                grams = view.analyzer(selected)
                last = (view.analyzer, selected, grams)
            hits.append(view.columns(grams))
        # One pass for all views (their column ranges are disjoint and ascending).
        cols, counts = np.unique(np.concatenate(hits), return_counts=True)
        values = (1.0 + np.log(counts)) * self.idf[cols]
        view_of = np.searchsorted(self.view_starts, cols, side="right") - 1
        norms = np.sqrt(np.bincount(view_of, weights=values * values, minlength=len(self.views)))
        values = values / norms[view_of]
        if self.settings.shape:
            cols = np.concatenate(
                [cols, np.arange(self.shape_offset, self.shape_offset + len(SHAPE_FEATURES))]
            )
            values = np.concatenate([values, np.array(shape_features(text)) * self.settings.shape_scale])
        return SparseRow(indices=cols, values=values)

    def feature_names(self) -> list[str]:
        names = [""] * self.n_features
        for view in self.views:
            for term, col in view.vocabulary.items():
                names[col] = f"{view.name}:{term}"
        if self.settings.shape:
            for i, name in enumerate(SHAPE_FEATURES):
                names[self.shape_offset + i] = f"shape:{name}"
        return names
