"""``interlock serve`` says at start what an operator must know: admin endpoints off without their key."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from servers import free_port
from .serving import minimal_config, serve_command

from interlock.cli.serve_cmd import admin_notice


def test_admin_notice_names_the_variable_only_when_it_is_unset() -> None:
    notice = admin_notice("INTERLOCK_ADMIN_KEY", {})
    assert notice is not None and "INTERLOCK_ADMIN_KEY" in notice and "/admin" in notice
    assert admin_notice("INTERLOCK_ADMIN_KEY", {"INTERLOCK_ADMIN_KEY": "s3cret"}) is None


def test_serve_says_the_admin_endpoints_are_off_at_start(tmp_path: Path) -> None:
    config = minimal_config(tmp_path, model="open")
    env = {k: v for k, v in os.environ.items() if k != "INTERLOCK_ADMIN_KEY"}
    command = serve_command("--config", str(config), "--port", str(free_port()))
    process = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    seen: list[str] = []
    try:
        assert process.stderr is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line:
                break
            seen.append(line)
            if "Loading models" in line:
                break
    finally:
        process.terminate()
        process.wait(timeout=30)
    said = " ".join(" ".join(seen).split())  # rich wraps long lines
    assert "Admin endpoints" in said and "INTERLOCK_ADMIN_KEY" in said, said
