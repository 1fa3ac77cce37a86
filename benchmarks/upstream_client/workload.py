"""What one benchmark call sends: the path, bodies and per-call headers, shared by every client."""

from __future__ import annotations

PATH = "/chat/completions"
BODY = {"model": "bench", "messages": [{"role": "user", "content": "Say hello in a few words."}],
        "max_tokens": 16}
STREAM_BODY = {**BODY, "stream": True, "stream_options": {"include_usage": True}}
KEY = "sk-bench-not-a-secret"


def call_headers(i: int) -> dict[str, str]:
    """What a provider passes per call: the request id and the key."""
    return {"x-request-id": f"req-{i:08d}", "authorization": f"Bearer {KEY}"}
