"""What the per-prompt router reads from a prompt: n-grams of words and characters, and its shape.

All functions are plain and stateless so the same code runs when fitting and on the hot path.
"""

from __future__ import annotations

import math
import re
from itertools import pairwise

# Words, and each punctuation mark on its own: maths notation ($, \, ^, =) marks harder prompts.
TOKEN_RE = re.compile(r"\w+|[^\w\s]")
NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)?")
# Lines that open with an answer option: "A. ", "b) ", "3. ".
OPTION_RE = re.compile(r"^[ \t]*(?:[A-Ha-h]|[1-8])[.)][ \t]", re.MULTILINE)
OPERATORS = "+-*/=^<>%"
LONG_WORD = 12

SHAPE_FEATURES = (
    "log_chars",
    "log_words",
    "log_lines",
    "log_numbers",
    "digit_share",
    "operator_share",
    "math_markup",
    "options",
    "log_questions",
    "long_word_share",
    "mean_word_length",
)


def window(text: str, head: int, tail: int) -> str:
    """The first ``head`` and last ``tail`` characters: bounds the work on very long prompts."""
    if len(text) <= head + tail:
        return text
    return text[:head] + "\n" + text[len(text) - tail :] if tail else text[:head]


def word_grams(text: str, n: int) -> list[str]:
    """Lower-cased tokens (words and single punctuation marks) and their n-grams up to ``n``."""
    tokens = TOKEN_RE.findall(text.lower())
    grams = list(tokens)
    if n >= 2:
        grams += [f"{a} {b}" for a, b in pairwise(tokens)]
    if n >= 3:
        grams += [f"{a} {b} {c}" for a, b, c in zip(tokens, tokens[1:], tokens[2:], strict=False)]
    return grams


def char_grams(text: str, low: int, high: int) -> list[str]:
    """Lower-cased character n-grams over whitespace-normalised text."""
    flat = " " + " ".join(text.lower().split()) + " "
    grams: list[str] = []
    for n in range(low, high + 1):
        grams += [flat[i : i + n] for i in range(len(flat) - n + 1)]
    return grams


def shape_features(text: str, full_length: int | None = None) -> list[float]:
    """Length and structure counts in ``SHAPE_FEATURES`` order (raw; the featurizer standardises them).

    ``text`` may be a window of a long prompt; ``full_length`` is then the prompt's real length.
    """
    size = max(len(text), 1)
    words = text.split()
    n_words = max(len(words), 1)
    digits = sum(text.count(d) for d in "0123456789")  # ten C-speed scans beat one Python loop
    operators = sum(text.count(c) for c in OPERATORS)
    return [
        math.log1p(len(text) if full_length is None else full_length),
        math.log1p(len(words)),
        math.log1p(text.count("\n") + 1),
        math.log1p(len(NUMBER_RE.findall(text))),
        digits / size,
        operators / size,
        float("$" in text or "\\" in text),
        min(len(OPTION_RE.findall(text)), 8) / 8.0,
        math.log1p(text.count("?")),
        sum(len(w) > LONG_WORD for w in words) / n_words,
        sum(map(len, words)) / n_words,
    ]
