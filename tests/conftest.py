"""Test-wide setup: the loopback-only network guard and shared fixtures."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import network_guard  # noqa: E402

network_guard.install()

from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402
from servers import serve_in_thread  # noqa: E402
from upstreams.openai_upstream import OpenAIUpstream  # noqa: E402


@pytest.fixture(scope="session")
def openai_upstream() -> Iterator[tuple[OpenAIUpstream, str]]:
    """A real OpenAI-format server on loopback: ``(server, base_url)``."""
    upstream = OpenAIUpstream()
    with serve_in_thread(upstream.app) as url:
        yield upstream, url
