"""Turns prompt text into the router's sparse feature row: TF-IDF views plus standardised shape.

Fitting learns each view's columns (a vocabulary, or nothing when n-grams are hashed) and idf,
and the mean and spread of the shape counts. ``row`` is the only transform: training, batch
scoring and the single-prompt hot path all go through it, so they cannot disagree.
"""

from __future__ import annotations

import math
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import repeat
from typing import Any

import numpy as np

from interlock.routing.prompt_router.settings import PromptRouterSettings
from interlock.routing.prompt_router.text_features import (
    SHAPE_FEATURES,
    char_grams,
    shape_features,
    window,
    word_grams,
)

SHAPE_CLIP = 5.0


@dataclass(frozen=True, slots=True)
class FeatureRow:
    """One prompt's features: ascending unique column indices and their values."""

    indices: np.ndarray
    values: np.ndarray


class _View:
    """One TF-IDF view: how to cut the text into n-grams and where each n-gram's column is."""

    def __init__(self, name: str, analyzer: Callable[[str], list[str]], buckets: int) -> None:
        self.name = name
        self.analyzer = analyzer
        self.buckets = buckets  # 0: learned vocabulary
        self.vocabulary: dict[str, int] = {}
        self.idf = np.zeros(0)
        self.offset = 0

    @property
    def width(self) -> int:
        return self.buckets or len(self.vocabulary)

    def local_columns(self, grams: list[str]) -> np.ndarray:
        """This view's column of every n-gram; unknown n-grams are dropped."""
        if self.buckets:
            return np.fromiter(
                (zlib.crc32(g.encode("utf-8")) % self.buckets for g in grams), dtype=np.intp, count=len(grams)
            )
        hits = np.fromiter(map(self.vocabulary.get, grams, repeat(-1)), dtype=np.intp, count=len(grams))
        return hits[hits >= 0]

    def fit(self, documents: list[list[str]], min_df: int, max_features: int) -> None:
        n = len(documents)
        if self.buckets:
            df = np.zeros(self.buckets)
            for grams in documents:
                df[np.unique(self.local_columns(grams))] += 1
        else:
            counts = Counter(g for grams in documents for g in set(grams))
            # The most frequent n-grams win; ties go alphabetically so fits are reproducible.
            kept = sorted((-c, g) for g, c in counts.items() if c >= min_df)[:max_features]
            terms = sorted(g for _, g in kept)
            self.vocabulary = {g: i for i, g in enumerate(terms)}
            df = np.array([counts[g] for g in terms], dtype=np.float64)
        # Smoothed idf, as scikit-learn computes it; rare hashed buckets are silenced as
        # ``min_df`` drops rare n-grams from a vocabulary (they are mostly noise).
        self.idf = np.where(df >= min_df, np.log((1.0 + n) / (1.0 + df)) + 1.0, 0.0)

    def values(self, grams: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Global columns and sublinear TF-IDF values, L2-normalised within the view."""
        cols, counts = np.unique(self.local_columns(grams), return_counts=True)
        values = (1.0 + np.log(counts)) * self.idf[cols]
        norm = math.sqrt(float(values @ values))
        return cols + self.offset, values / norm if norm > 0 else values


class PromptFeaturizer:
    """Fit on training prompts, then map any prompt to a ``FeatureRow``."""

    def __init__(self, settings: PromptRouterSettings) -> None:
        self.settings = settings
        s = settings
        self.views: list[_View] = []
        if s.word_ngrams:
            self.views.append(_View("word", partial(word_grams, n=s.word_ngrams), s.hash_buckets))
        if s.char_ngrams:
            low, high = s.char_ngrams
            analyzer = partial(_char_window_grams, chars=s.char_chars, low=low, high=high)
            self.views.append(_View("char", analyzer, s.hash_buckets))
        self.shape_mean = np.zeros(len(SHAPE_FEATURES))
        self.shape_scale = np.ones(len(SHAPE_FEATURES))
        self.shape_offset = 0
        self.n_features = 0

    def fit(self, texts: Sequence[str]) -> PromptFeaturizer:
        windows = [self._window(t) for t in texts]
        offset = 0
        for view in self.views:
            view.fit([view.analyzer(w) for w in windows], self.settings.min_df, self.settings.max_features)
            view.offset = offset
            offset += view.width
        self.shape_offset = offset
        if self.settings.shape:
            raw = np.array([shape_features(w, len(t)) for w, t in zip(windows, texts, strict=True)])
            spread = raw.std(axis=0)
            self.shape_mean = raw.mean(axis=0)
            # A count that never varies in training carries nothing: leave it at zero.
            varies = spread > 1e-9 * np.maximum(1.0, np.abs(self.shape_mean))
            self.shape_scale = np.where(
                varies, self.settings.shape_scale / np.where(varies, spread, 1.0), 0.0
            )
            offset += len(SHAPE_FEATURES)
        self.n_features = offset
        return self

    def _window(self, text: str) -> str:
        return window(text, self.settings.head_chars, self.settings.tail_chars)

    def row(self, text: str) -> FeatureRow:
        windowed = self._window(text)
        parts = [view.values(view.analyzer(windowed)) for view in self.views]
        if self.settings.shape:
            raw = np.array(shape_features(windowed, len(text)))
            # Clipped at SHAPE_CLIP standard deviations: an outlandish prompt must not dominate.
            limit = SHAPE_CLIP * self.settings.shape_scale
            values = np.clip((raw - self.shape_mean) * self.shape_scale, -limit, limit)
            parts.append((np.arange(self.shape_offset, self.shape_offset + len(SHAPE_FEATURES)), values))
        if len(parts) == 1:
            return FeatureRow(parts[0][0], parts[0][1])
        return FeatureRow(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))

    def matrix(self, texts: Sequence[str]) -> Any:
        """A scipy CSR matrix of ``row`` for each text (training and evaluation only)."""
        import scipy.sparse as sp

        rows = [self.row(t) for t in texts]
        indptr = np.cumsum([0] + [len(r.indices) for r in rows])
        indices = np.concatenate([r.indices for r in rows])
        values = np.concatenate([r.values for r in rows])
        return sp.csr_matrix((values, indices, indptr), shape=(len(rows), self.n_features))

    def column_names(self) -> list[str]:
        """``view:n-gram`` per column (hashed columns are ``view#bucket``), then ``shape:name``."""
        names = [""] * self.n_features
        for view in self.views:
            if view.buckets:
                names[view.offset : view.offset + view.width] = [
                    f"{view.name}#{i}" for i in range(view.width)
                ]
            for gram, col in view.vocabulary.items():
                names[view.offset + col] = f"{view.name}:{gram}"
        if self.settings.shape:
            for i, name in enumerate(SHAPE_FEATURES):
                names[self.shape_offset + i] = f"shape:{name}"
        return names


def _char_window_grams(text: str, chars: int, low: int, high: int) -> list[str]:
    # Character n-grams are several per character: a shorter window keeps long prompts fast.
    return char_grams(window(text, chars * 3 // 4, chars // 4), low, high)
