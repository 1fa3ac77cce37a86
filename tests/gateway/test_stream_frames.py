"""How many async-generator frames a streamed chunk passes through, client bytes to upstream read.

A profile hook on the gateway's server thread fires each time the provider's stream is resumed
for its next chunk and counts the async-generator frames on the stack from there up: the
provider's own loop, the guard, the fallback chain, the stream and the renderer.
"""

from __future__ import annotations

import inspect
import sys
import threading
from types import FrameType
from typing import Any

import httpx
import pytest
from gateway_harness import openai_deployment, running_gateway

from interlock.providers.openai_compat import OpenAICompatProvider

MAX_FRAMES = 4


def _async_generator_frames(frame: FrameType | None) -> int:
    count = 0
    while frame is not None:
        if frame.f_code.co_flags & inspect.CO_ASYNC_GENERATOR:
            count += 1
        frame = frame.f_back
    return count


@pytest.mark.parametrize("path,body", [
    ("/v1/chat/completions", {"model": "m", "stream": True, "messages": [{"role": "user", "content": "Count to five."}]}),
    ("/v1/messages", {"model": "m", "stream": True, "max_tokens": 50,
                      "messages": [{"role": "user", "content": "Count to five."}]}),
])
def test_a_streamed_chunk_passes_through_at_most_four_generator_frames(openai_upstream, path: str, body: dict[str, Any]) -> None:
    _, url = openai_upstream
    provider_code = OpenAICompatProvider.stream.__code__
    seen: list[int] = []

    def hook(frame: FrameType, event: str, _arg: Any) -> None:
        if event == "call" and frame.f_code is provider_code:
            seen.append(_async_generator_frames(frame))

    threading.setprofile(hook)  # applies to the gateway's server thread, started below
    try:
        config = {"deployments": [openai_deployment("m", url, perimeter="internal")]}
        with running_gateway(config) as (gateway, _runtime):
            threading.setprofile(None)  # type: ignore[arg-type]
            with httpx.stream("POST", gateway + path, json=body, timeout=30) as resp:
                assert resp.status_code == 200
                text = "".join(resp.iter_text())
    finally:
        threading.setprofile(None)  # type: ignore[arg-type]
        sys.setprofile(None)
    assert ("[DONE]" in text) or ("message_stop" in text)
    assert len(seen) >= 3, "the provider's stream was not seen resumed for each chunk"
    assert max(seen) <= MAX_FRAMES, f"async-generator frames per chunk: {sorted(set(seen))}"
