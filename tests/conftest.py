"""Test-wide setup: the loopback-only network guard and shared fixtures."""

from __future__ import annotations

import os
import sys
import tempfile
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


import os  # noqa: E402

from upstreams.anthropic_upstream import API_KEY, KEY_ENV, AnthropicUpstream  # noqa: E402


@pytest.fixture(scope="session")
def anthropic_upstream() -> Iterator[tuple[AnthropicUpstream, str]]:
    """A real Anthropic-Messages-format server on loopback: ``(server, base_url)``.

    Its key is put in the environment variable that test deployments name in ``api_key_env``.
    """
    os.environ[KEY_ENV] = API_KEY
    upstream = AnthropicUpstream()
    try:
        with serve_in_thread(upstream.app) as url:
            yield upstream, url
    finally:
        os.environ.pop(KEY_ENV, None)


# Keep the default data directory (ledger, keys, audit log) of anything a test starts out of $HOME.
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="interlock-test-data-")
