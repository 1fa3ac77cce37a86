"""``interlock serve`` reads its config path, host and port from the environment; flags win over it."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import httpx
from servers import free_port
from .serving import minimal_config, serve_command

from interlock import __version__


def wait_for_health(url: str, process: subprocess.Popen[str], seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return True
        except httpx.TransportError:
            time.sleep(0.2)
    return False


def answers(url: str) -> bool:
    try:
        httpx.get(url + "/healthz", timeout=1)
    except httpx.TransportError:
        return False
    return True


def test_config_and_host_from_env_and_the_port_flag_beats_the_env(tmp_path: Path) -> None:
    config = minimal_config(tmp_path, model="from-env-config", server="{auth: false, port: 1}")
    flag_port, env_port = free_port(), free_port()
    env = {**os.environ, "INTERLOCK_CONFIG": str(config), "INTERLOCK_HOST": "127.0.0.1",
           "INTERLOCK_PORT": str(env_port)}
    command = serve_command("--port", str(flag_port))
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        url = f"http://127.0.0.1:{flag_port}"
        assert wait_for_health(url, process)
        answer = httpx.get(url + "/v1/models", timeout=5)
        assert "from-env-config" in [m["id"] for m in answer.json()["data"]]
        assert "server" not in answer.headers  # the server software is not advertised
        assert not answers(f"http://127.0.0.1:{env_port}")  # the flag won over INTERLOCK_PORT
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_version_flag_and_command(interlock) -> None:  # type: ignore[no-untyped-def]
    assert interlock("--version").stdout.strip() == __version__
    assert interlock("version").stdout.strip() == __version__


def test_start_up_lines_are_json_log_records_when_logs_are(tmp_path: Path) -> None:
    config = minimal_config(tmp_path)
    port = free_port()
    env = {**os.environ, "INTERLOCK_LOG_FORMAT": "json"}
    command = serve_command("-c", str(config), "--port", str(port))
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert wait_for_health(f"http://127.0.0.1:{port}", process)
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    records = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    startup = [r["msg"] for r in records if r["logger"] == "interlock.startup"]
    assert startup[0].startswith("interlock config")
    # the only upstream is unreachable: preflight says so, and the last line says it serves anyway
    assert any("NOT READY" in m for m in startup) and startup[-1].startswith("Serving, NOT READY (see above):")
    assert all("[" not in m or "[/" not in m for m in startup)  # rich markup stripped


def test_an_unknown_log_format_is_refused(interlock) -> None:  # type: ignore[no-untyped-def]
    result = interlock("serve", "--log-format", "xml")
    assert result.exit_code == 2 and "auto, json or text" in result.output
