"""How deep a streamed chunk's path is: async-generator frames on the stack when the provider yields.

Each such frame costs a resume per chunk; the resilience layer (chain and guard) over a real
provider parsing a real loopback upstream may take at most 3, so the gateway can add one.
"""

from __future__ import annotations

import inspect
import random
import sys
from typing import Any

from interlock.config.deployments import OpenAIDeployment
from interlock.providers.base import ChatRequest
from interlock.providers.openai_compat import OpenAICompatProvider
from interlock.resilience.registry import DeploymentRegistry

_PROVIDERS = "interlock/providers/"


class _DeepestStack:
    """A ``sys.settrace`` hook: the most async-generator frames on the stack whenever one of a
    provider module's async generators runs (it yields its chunks from there)."""

    def __init__(self) -> None:
        self.frames = 0

    def __call__(self, frame: Any, event: str, arg: Any) -> Any:
        code = frame.f_code
        if event == "call" and code.co_flags & inspect.CO_ASYNC_GENERATOR and _PROVIDERS in code.co_filename:
            return self._local
        return None

    def _local(self, frame: Any, event: str, arg: Any) -> Any:
        # a yield of a value (not a suspension at an await), and not by a context manager's generator
        # (``open_sse`` hands over its reader once, outside the chunk path)
        if event == "return" and type(arg).__name__ == "async_generator_wrapped_value" and not (
            frame.f_back is not None and frame.f_back.f_code.co_filename.endswith("contextlib.py")
        ):
            count, f = 0, frame
            while f is not None:
                count += bool(f.f_code.co_flags & inspect.CO_ASYNC_GENERATOR)
                f = f.f_back
            self.frames = max(self.frames, count)
        return self._local


async def test_a_chunk_passes_through_at_most_three_generator_frames(openai_upstream: Any) -> None:
    _, url = openai_upstream
    provider = OpenAICompatProvider(OpenAIDeployment(
        type="openai", name="local", model="chat", vendor="test", perimeter="internal", context_window=4096,
        base_url=url + "/v1", price={"type": "unknown"}))
    registry = DeploymentRegistry(rng=random.Random(0))
    registry.add("local", provider)
    request = ChatRequest(body={"messages": [{"role": "user", "content": "one two three four"}]})
    deepest, previous = _DeepestStack(), sys.gettrace()
    try:
        sys.settrace(deepest)
        try:
            chunks = [chunk async for chunk in registry.chain(["local"]).stream(request)]
        finally:
            sys.settrace(previous)
    finally:
        await registry.aclose()
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "stop"
    assert 0 < deepest.frames <= 3, f"{deepest.frames} async-generator frames per chunk"
