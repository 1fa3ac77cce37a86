"""Fixtures for CLI tests: the ``interlock`` app under typer's runner, and small files written per test."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from interlock.cli.main import app

Invoke = Callable[..., Any]


@pytest.fixture
def interlock() -> Invoke:
    """``interlock(*args)`` runs the command in-process; the result has exit_code, stdout and stderr."""

    def invoke(*args: str | Path) -> Any:
        return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)

    return invoke


@pytest.fixture
def write_jsonl(tmp_path: Path) -> Callable[[str, Sequence[dict[str, Any]]], Path]:
    """Write dicts as JSON lines to ``tmp_path / name``."""

    def write(name: str, lines: Sequence[dict[str, Any]]) -> Path:
        path = tmp_path / name
        path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
        return path

    return write
