"""``interlock serve`` as a real process: keys never reach its logs or database in clear, and a SIGTERM
under load loses no ledger record.

One gateway process serves the whole module: first requests that carry keys in every way a client
can (a valid key, a forged one, the Anthropic header, a refused model), then a bounded loop of
concurrent requests, half of them slow upstream, during which the process gets SIGTERM. The tests
then read its stderr log and its database files.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import yaml
from gateway_harness import openai_deployment
from servers import free_port
from test_budgets_e2e import create_key

from interlock.storage.database import open_database

WORKERS = 8
MAX_REQUESTS = 400  # the load loop's bound, whatever happens
LOAD_S = 1.5  # load before SIGTERM


@dataclass
class Run:
    key: str
    forged: str
    log: str
    database_bytes: bytes
    ok_ids: list[str] = field(default_factory=list)  # x-request-id of every 200
    ok_after_sigterm: int = 0
    failures: int = 0
    ledger_ok_ids: list[str] = field(default_factory=list)
    exit_code: int | None = None


def _start(config: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "interlock.cli.main",
        "serve",
        "--config",
        str(config),
        "--port",
        str(port),
        "--log-level",
        "info",
    ]
    with log.open("wb") as err:
        return subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=err, env={**os.environ, "COLUMNS": "200"}
        )


def _wait_ready(process: subprocess.Popen[bytes], url: str, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, "the gateway exited during startup"
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise TimeoutError("the gateway did not become ready")


def _requests_with_keys(url: str, key: str, forged: str) -> None:
    chat = {"model": "open", "messages": [{"role": "user", "content": "hello from a keyed client"}]}
    bearer = {"authorization": f"Bearer {key}"}
    assert httpx.post(url + "/v1/chat/completions", json=chat, headers=bearer).status_code == 200
    assert (
        httpx.post(url + "/v1/chat/completions", json={**chat, "stream": True}, headers=bearer).status_code
        == 200
    )
    assert (
        httpx.post(url + "/v1/chat/completions", json={**chat, "model": "nope"}, headers=bearer).status_code
        == 404
    )
    forged_resp = httpx.post(
        url + "/v1/chat/completions", json=chat, headers={"authorization": f"Bearer {forged}"}
    )
    assert forged_resp.status_code == 401
    messages = {
        "model": "open",
        "max_tokens": 20,
        "messages": [{"role": "user", "content": "hi via messages"}],
    }
    assert (
        httpx.post(
            url + "/v1/messages", json=messages, headers={"x-api-key": key, "anthropic-version": "2023-06-01"}
        ).status_code
        == 200
    )


async def _load(url: str, key: str, process: subprocess.Popen[bytes], run: Run) -> None:
    sent = 0
    sigterm_at: float | None = None
    started = time.monotonic()

    async def worker(slow: bool, client: httpx.AsyncClient) -> None:
        nonlocal sent
        text = "FAULT:slow under load" if slow else "under load"
        while sent < MAX_REQUESTS:
            sent += 1
            try:
                resp = await client.post(
                    "/v1/chat/completions",
                    json={"model": "open", "messages": [{"role": "user", "content": text}]},
                )
            except httpx.TransportError:  # refused or dropped once the server stops accepting
                run.failures += 1
                if sigterm_at is not None:
                    return
                continue
            if resp.status_code == 200:
                run.ok_ids.append(resp.headers["x-request-id"])
                if sigterm_at is not None:
                    run.ok_after_sigterm += 1
            else:
                run.failures += 1

    async def stop_after_a_while() -> None:
        nonlocal sigterm_at
        # SIGTERM once there is a steady load (and slow requests in flight), however fast the machine
        deadline = time.monotonic() + LOAD_S
        while len(run.ok_ids) < 40 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        sigterm_at = time.monotonic()
        process.send_signal(signal.SIGTERM)

    headers = {"authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
        await asyncio.wait_for(
            asyncio.gather(stop_after_a_while(), *(worker(i % 2 == 0, client) for i in range(WORKERS))),
            timeout=60,
        )
    assert time.monotonic() - started < 60


@pytest.fixture(scope="module")
def run(openai_upstream, tmp_path_factory) -> Iterator[Run]:
    _, up = openai_upstream
    tmp = tmp_path_factory.mktemp("shutdown")
    db, audit, log = tmp / "gateway.db", tmp / "audit.db", tmp / "gateway.log"
    key, _key_id = create_key(db, "--team", "load")
    config = tmp / "gateway.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "server": {"auth": True},
                "accounting": {"database_url": str(db)},
                "audit_log": str(audit),
                "deployments": [openai_deployment("open", up, open_weight=True, perimeter="internal")],
            }
        ),
        encoding="utf-8",
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = _start(config, port, log)
    result = Run(key=key, forged="il-" + secrets.token_urlsafe(32), log="", database_bytes=b"")
    try:
        _wait_ready(process, url)
        _requests_with_keys(url, key, result.forged)
        asyncio.run(_load(url, key, process, result))
        result.exit_code = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    result.log = log.read_text(encoding="utf-8", errors="replace")
    result.database_bytes = b"".join(
        p.read_bytes() for p in tmp.iterdir() if p.name.startswith(("gateway.db", "audit"))
    )
    database = open_database(str(db))
    result.ledger_ok_ids = [
        r[0] for r in database.fetchall("SELECT request_id FROM usage_records WHERE status = 'ok'")
    ]
    database.close()
    yield result


def test_sigterm_under_load_loses_no_ledger_record(run: Run) -> None:
    # uvicorn shuts down gracefully, then re-raises the signal it caught: the exit status says SIGTERM.
    assert run.exit_code in (0, -signal.SIGTERM), run.log[-2000:]
    assert (
        len(run.ok_ids) >= 20 and run.ok_after_sigterm >= 1
    )  # there was load, and it finished during shutdown
    assert len(run.ok_ids) + run.failures <= MAX_REQUESTS
    answered = set(run.ok_ids)
    recorded = set(run.ledger_ok_ids)
    assert len(answered) == len(run.ok_ids)
    assert answered <= recorded, f"{len(answered - recorded)} answered requests are missing from the ledger"
    # three 200s before the load (chat, stream, messages); anything else answered was counted too
    assert len(recorded) - len(answered) <= 3 + run.failures


def test_keys_never_appear_in_clear(run: Run) -> None:
    request_lines = [
        json.loads(line) for line in run.log.splitlines() if '"logger":"interlock.request"' in line
    ]
    assert len(request_lines) >= len(run.ok_ids) + 5  # the log was captured: every request has its line
    for secret in (run.key, run.forged):
        body = secret.removeprefix("il-")
        assert body not in run.log
        assert body.encode() not in run.database_bytes
