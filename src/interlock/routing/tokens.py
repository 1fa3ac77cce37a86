"""Counting prompt tokens: exactly for the embedded model's tokenizer, in about a millisecond.

The counter is tiktoken running the embedded SmolLM2 vocabulary (extracted from the GGUF by
scripts/build_tokenizer.py, with llama.cpp's `smollm` pre-tokenizer split). It is exact for the
embedded model (tests compare it with llama.cpp's tokenizer). Frontier and larger open models use
vocabularies several times bigger, which need fewer tokens for the same text, so for them this
count errs on the safe side of a context window.
"""

from __future__ import annotations

import base64
import importlib.resources
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import tiktoken

# llama.cpp's `smollm` pre-tokenizer: every digit alone, then GPT-2's split.
# Splitting digits first makes a digit end the whitespace run before it, hence the lookahead.
_SMOLLM_PATTERN = r"""\p{N}|'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?[^\s\p{L}\p{N}]+|\s+(?![^\s\p{N}])|\s+"""

# Chat templates add a few tokens per message (role markers, separators).
PER_MESSAGE_OVERHEAD = 4


@lru_cache(maxsize=1)
def reference_encoding() -> tiktoken.Encoding:
    ranks: dict[bytes, int] = {}
    text = (importlib.resources.files("interlock") / "data/tokenizers/smollm2.tiktoken").read_text()
    for line in text.splitlines():
        token, rank = line.split()
        ranks[base64.b64decode(token)] = int(rank)
    return tiktoken.Encoding("smollm2", pat_str=_SMOLLM_PATTERN, mergeable_ranks=ranks, special_tokens={})


def count_text(text: str) -> int:
    return len(reference_encoding().encode_ordinary(text))


def message_texts(messages: Iterable[Any]) -> list[str]:
    """Every text a model reads from OpenAI-style messages: contents, text parts, tool call arguments."""
    out: list[str] = []
    for m in messages:
        get = m.get if isinstance(m, dict) else lambda k, _m=m: getattr(_m, k, None)
        content = get("content")
        if isinstance(content, str):
            out.append(content)
        elif isinstance(content, list):
            for part in content:
                text = part.get("text") if isinstance(part, dict) else getattr(part, "text", None)
                if text:
                    out.append(text)
        for call in get("tool_calls") or ():
            fn = call.get("function") or {}
            out.append(str(fn.get("name", "")) + str(fn.get("arguments", "")))
    return out


def count_messages(messages: Iterable[Any]) -> int:
    texts = message_texts(messages)
    return sum(count_text(t) for t in texts) + PER_MESSAGE_OVERHEAD * len(texts)
