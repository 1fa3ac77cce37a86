"""The image's entrypoint script: settings from the environment, secrets from files, clear refusals.

The script runs for real under /bin/sh; an `interlock` stand-in on PATH records what it was started with.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .paths import DEPLOY

ENTRYPOINT = DEPLOY / "docker" / "entrypoint.sh"

RECORDER = """#!/bin/sh
python3 - "$@" <<'PY'
import json, os, sys
print(json.dumps({"argv": sys.argv[1:], "env": {k: v for k, v in os.environ.items()
                  if k.startswith(("INTERLOCK_", "PGPASSWORD", "OPENAI_", "SSL_CERT"))}}))
PY
"""


@dataclass
class Entrypoint:
    """Runs the script with a recording `interlock` first on PATH and a readable config file."""

    bin_dir: Path
    config: Path

    def __call__(self, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
        base = {"PATH": f"{self.bin_dir}:{os.environ['PATH']}", "INTERLOCK_CONFIG": str(self.config)}
        return subprocess.run(["sh", str(ENTRYPOINT), *args], env={**base, **env},
                              capture_output=True, text=True, timeout=30)


@pytest.fixture
def start(tmp_path: Path) -> Entrypoint:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    recorder = bin_dir / "interlock"
    recorder.write_text(RECORDER)
    recorder.chmod(0o755)
    config = tmp_path / "config.yaml"
    config.write_text("deployments: []\n")
    return Entrypoint(bin_dir, config)


def recorded(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_config_host_port_and_log_level_come_from_the_environment(start: Entrypoint) -> None:
    seen = recorded(start({"INTERLOCK_HOST": "0.0.0.0", "INTERLOCK_PORT": "9090", "INTERLOCK_LOG_LEVEL": "debug"},
                          "--workers", "2"))
    assert seen["argv"] == ["serve", "--config", str(start.config), "--host", "0.0.0.0", "--port", "9090",
                            "--log-level", "debug", "--workers", "2"]


def test_secret_files_become_variables_and_the_file_variable_is_dropped(start: Entrypoint, tmp_path: Path) -> None:
    (tmp_path / "admin").write_text("admin-secret\n")
    (tmp_path / "pg").write_text("pg-secret")
    seen = recorded(start({"INTERLOCK_ADMIN_KEY_FILE": str(tmp_path / "admin"), "PGPASSWORD_FILE": str(tmp_path / "pg")}))
    assert seen["env"]["INTERLOCK_ADMIN_KEY"] == "admin-secret"
    assert seen["env"]["PGPASSWORD"] == "pg-secret"
    assert "INTERLOCK_ADMIN_KEY_FILE" not in seen["env"] and "PGPASSWORD_FILE" not in seen["env"]


def test_file_variables_that_are_not_secrets_stay_paths(start: Entrypoint, tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n" * 10_000)  # larger than one variable may hold
    seen = recorded(start({"SSL_CERT_FILE": str(bundle)}))
    assert seen["env"] == {"SSL_CERT_FILE": str(bundle), "INTERLOCK_CONFIG": str(start.config)}


def test_a_command_instead_of_options_runs_that_command_with_the_secrets(start: Entrypoint, tmp_path: Path) -> None:
    (tmp_path / "pg").write_text("pg-secret")
    seen = recorded(start({"PGPASSWORD_FILE": str(tmp_path / "pg"), "INTERLOCK_CONFIG": "/not/needed/here"},
                          "keys", "create", "--team", "claims"))
    assert seen["argv"] == ["keys", "create", "--team", "claims"]
    assert seen["env"]["PGPASSWORD"] == "pg-secret"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"INTERLOCK_CONFIG": "/nonexistent/config.yaml"}, "config file /nonexistent/config.yaml (INTERLOCK_CONFIG)"),
        ({"INTERLOCK_PORT": "tcp://10.0.0.1:80"}, "INTERLOCK_PORT must be a port number"),
        ({"OPENAI_API_KEY_FILE": "/run/secrets/missing"}, "OPENAI_API_KEY_FILE names /run/secrets/missing"),
        ({"OPENAI_API_KEY": "sk-x", "OPENAI_API_KEY_FILE": "/dev/null"}, "both OPENAI_API_KEY and OPENAI_API_KEY_FILE"),
        ({"OPENAI_API_KEY_FILE": "/dev/null"}, "which is empty"),
    ],
)
def test_bad_settings_stop_with_a_line_naming_the_variable(start: Entrypoint, env: dict[str, str], message: str) -> None:
    result = start(env)
    assert result.returncode == 2 and result.stdout == ""
    assert message in result.stderr
    assert "sk-x" not in result.stderr
