"""Running ``interlock serve`` as a real process in CLI tests: a minimal config and the command line."""

from __future__ import annotations

import sys
from pathlib import Path


def minimal_config(tmp_path: Path, model: str = "m", server: str = "{auth: false}") -> Path:
    """One never-called loopback deployment, throwaway databases; returns the file's path."""
    config = tmp_path / "gateway.yaml"
    config.write_text(
        f"server: {server}\n"
        f"accounting: {{database_url: {tmp_path / 'gw.db'}}}\n"
        f"audit_log: {tmp_path / 'audit.db'}\n"
        "deployments:\n"
        f"  - {{name: open, type: openai, model: {model}, vendor: test, perimeter: internal,\n"
        "     context_window: 4096, base_url: 'http://127.0.0.1:9/v1', price: {type: unknown}}\n"
    )
    return config


def serve_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "interlock.cli.main", "serve", *args]
