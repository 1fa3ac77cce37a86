"""CPU per streamed answer through the resilience layer alone: ``DeploymentRegistry.chain(...).stream``
over a real ``OpenAICompatProvider`` talking to ``mock_upstream.py`` (its own process) on loopback.

Also counts the async-generator frames on the stack when the provider yields a chunk.
It is a benchmark, not a test: it prints numbers and fails nothing.

Run: ``.venv/bin/python benchmarks/gateway_overhead/chain_stream_bench.py [--streams 2000] [--tokens 16]``
"""

from __future__ import annotations

import argparse
import inspect
import random
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import uvloop

from interlock.config.deployments import OpenAIDeployment
from interlock.providers.base import ChatRequest
from interlock.providers.openai_compat import OpenAICompatProvider
from interlock.resilience.registry import DeploymentRegistry

HERE = Path(__file__).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def deepest_provider_stack(frame: Any, event: str, arg: Any) -> Any:
    """A ``sys.settrace`` hook: while a provider module's async generator runs, the most
    async-generator frames seen on the stack (in ``deepest_provider_stack.frames``)."""
    code = frame.f_code
    if event != "call" or not code.co_flags & inspect.CO_ASYNC_GENERATOR:
        return None
    if "interlock/providers/" not in code.co_filename:
        return None

    def local(frame: Any, event: str, arg: Any) -> Any:
        # a yield of a value (not an await), and not by a context manager's generator (off the chunk path)
        if event == "return" and type(arg).__name__ == "async_generator_wrapped_value" and not (
            frame.f_back is not None and frame.f_back.f_code.co_filename.endswith("contextlib.py")
        ):
            count, f = 0, frame
            while f is not None:
                count += bool(f.f_code.co_flags & inspect.CO_ASYNC_GENERATOR)
                f = f.f_back
            deepest = max(deepest_provider_stack.frames, count)  # type: ignore[attr-defined]
            deepest_provider_stack.frames = deepest  # type: ignore[attr-defined]
        return local

    return local


deepest_provider_stack.frames = 0  # type: ignore[attr-defined]


def _deployment(port: int) -> OpenAIDeployment:
    return OpenAIDeployment(
        type="openai", name="bench", model="bench", vendor="bench", perimeter="internal", context_window=8192,
        base_url=f"http://127.0.0.1:{port}/v1", price={"type": "unknown"})


async def _run(port: int, streams: int, tokens: int) -> None:
    request = ChatRequest(body={"messages": [{"role": "user", "content": "hi"}], "max_tokens": tokens})
    registry = DeploymentRegistry(rng=random.Random(0))
    registry.add("bench", OpenAICompatProvider(_deployment(port)), concurrency=64)
    try:
        sys.settrace(deepest_provider_stack)
        try:
            async for _ in registry.chain(["bench"]).stream(request):
                pass
        finally:
            sys.settrace(None)
        frames = deepest_provider_stack.frames  # type: ignore[attr-defined]
        print(f"async-generator frames on the stack when the provider yields: {frames}")
        for _ in range(200):  # warm-up: connections, caches
            async for _ in registry.chain(["bench"]).stream(request):
                pass
        chunks = 0
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(streams):
            async for _ in registry.chain(["bench"]).stream(request):
                chunks += 1
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        print(f"{streams} streams, {chunks / streams:.0f} chunks each: "
              f"{cpu / streams * 1e3:.3f} ms CPU per stream (this process, incl. aiohttp), "
              f"{wall / streams * 1e3:.3f} ms wall")
    finally:
        await registry.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=2000)
    parser.add_argument("--tokens", type=int, default=16)
    args = parser.parse_args()
    port = _free_port()
    mock = subprocess.Popen([sys.executable, str(HERE / "mock_upstream.py"), "--port", str(port),
                             "--tokens", str(args.tokens)], stdout=subprocess.PIPE, text=True)
    try:
        assert mock.stdout is not None and "ready" in mock.stdout.readline()
        uvloop.run(_run(port, args.streams, args.tokens))
    finally:
        mock.terminate()
        mock.wait(5)


if __name__ == "__main__":
    main()
