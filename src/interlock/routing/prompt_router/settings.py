"""Training settings of the per-prompt router: which features, how much regularisation, how it is checked.

The settings travel inside the saved router, so a score can always be traced to how it was trained.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class PromptRouterSettings:
    """One featurisation and head; the defaults are the measured best (benchmarks/routing_economics).

    Feature families, each an L2-normalised TF-IDF view except ``shape``:

    - ``word_ngrams``: lower-cased word n-grams up to this length (0 turns the view off). Single
      punctuation marks count as words, so ``$``, ``\\``, ``^`` and ``=`` (maths notation) are seen.
    - ``char_ngrams``: character n-grams in this (low, high) range over the first ``char_chars``
      characters, or None.
    - ``hash_buckets``: 0 learns a vocabulary from the training prompts (``min_df``,
      ``max_features`` per view); more than 0 hashes n-grams into that many columns instead.
    - ``shape``: length and structure counts (``text_features.SHAPE_FEATURES``), standardised on
      the training prompts and scaled by ``shape_scale``.

    The head is a logistic regression with inverse regularisation ``c``. ``evaluation_folds``
    more fits, on held-out folds, give ``describe()`` its out-of-fold metrics (0 skips them).
    """

    word_ngrams: int = 2
    char_ngrams: tuple[int, int] | None = None
    char_chars: int = 2_000
    hash_buckets: int = 0
    shape: bool = True
    shape_scale: float = 0.2
    min_df: int = 2
    max_features: int = 200_000
    head_chars: int = 12_000
    tail_chars: int = 4_000
    c: float = 0.5
    evaluation_folds: int = 5
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.word_ngrams <= 3:
            raise ValueError(f"word_ngrams must be 0 (off) to 3, got {self.word_ngrams}")
        if self.char_ngrams is not None:
            low, high = self.char_ngrams
            if not 1 <= low <= high <= 6:
                raise ValueError(
                    f"char_ngrams must be (low, high) with 1 <= low <= high <= 6, got {self.char_ngrams}"
                )
        if not (self.word_ngrams or self.char_ngrams or self.shape):
            raise ValueError("at least one feature family (word_ngrams, char_ngrams, shape) must be on")
        for name in ("char_chars", "min_df", "max_features", "head_chars"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.hash_buckets < 0 or self.tail_chars < 0:
            raise ValueError("hash_buckets and tail_chars must not be negative")
        if self.c <= 0 or self.shape_scale <= 0:
            raise ValueError("c and shape_scale must be positive")
        if self.evaluation_folds == 1 or self.evaluation_folds < 0:
            raise ValueError(f"evaluation_folds must be 0 (off) or at least 2, got {self.evaluation_folds}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def feature_families(self) -> list[str]:
        """Human-readable names of the enabled feature families."""
        how = f"hashed into {self.hash_buckets}" if self.hash_buckets else "tf-idf"
        families = []
        if self.word_ngrams:
            families.append(f"word 1-{self.word_ngrams} grams ({how})")
        if self.char_ngrams:
            low, high = self.char_ngrams
            families.append(f"char {low}-{high} grams ({how})")
        if self.shape:
            families.append("shape (length and structure)")
        return families
