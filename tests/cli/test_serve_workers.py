"""``interlock serve --workers N``: how many by default, and two real worker processes sharing one
key's budget, the ledger, the audit chain and a config reload (SQLite files, no Redis)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import httpx
import yaml
from gateway_harness import openai_deployment
from servers import free_port

from interlock.cli.serve_workers import available_cpus, default_workers, worker_environment
from interlock.compliance.audit import AuditLog
from interlock.config.defaults import default_config
from interlock.config.load import parse_config
from interlock.storage.database import open_database
from interlock.accounting.keys import SqlKeyStore

ADMIN_KEY = "workers-admin-key"
BUDGET_USD = Decimal("0.40")
REQUESTS = 60
PRICE = {"type": "per_token", "input_per_mtok": 1000.0, "output_per_mtok": 2000.0}


def test_available_cpus_honours_a_container_quota(tmp_path: Path) -> None:
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert available_cpus(tmp_path) == min(2, len(os.sched_getaffinity(0)))
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert available_cpus(tmp_path) == len(os.sched_getaffinity(0))
    assert available_cpus(tmp_path / "missing") == len(os.sched_getaffinity(0))


def test_one_worker_per_cpu_but_one_for_an_embedded_model() -> None:
    embedded = default_config().config
    assert default_workers(None, 8) == 1  # the embedded default
    assert default_workers(embedded, 8) == 1
    remote = parse_config(yaml.safe_dump({"deployments": [openai_deployment("open", "http://127.0.0.1:9")]}),
                          "remote.yaml").config
    assert default_workers(remote, 8) == 8
    env = worker_environment(Path("gw.yaml"), 3, "info", True, "Ready")
    assert env["INTERLOCK_WORKERS"] == "3" and Path(env["INTERLOCK_CONFIG"]).is_absolute()
    assert worker_environment(None, 2, "info", False, "Ready")["INTERLOCK_CONFIG"] == ""


def test_a_bad_worker_count_is_refused_clearly(tmp_path: Path) -> None:
    env = {**os.environ, "INTERLOCK_WORKERS": "lots", "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-m", "interlock.cli.main", "serve", "--port", str(free_port())],
                          capture_output=True, text=True, timeout=60, env=env, check=False)
    assert done.returncode == 2
    assert "INTERLOCK_WORKERS" in done.stderr and "integer" in done.stderr


def _create_key(db: Path, env: dict[str, str]) -> tuple[str, str]:
    command = [sys.executable, "-m", "interlock.cli.main", "keys", "create", "--team", "workers",
               "--budget-usd", str(BUDGET_USD), "--db", str(db)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env, check=False)
    assert done.returncode == 0, done.stderr
    secret = done.stdout.strip().splitlines()[-1]
    database = open_database(str(db))
    key = SqlKeyStore(database).lookup(secret)
    database.close()
    assert key is not None
    return secret, key.key_id


async def _hammer(url: str, key: str) -> tuple[list[int], list[str]]:
    statuses: list[int] = []
    ok_ids: list[str] = []
    pending = list(range(REQUESTS))

    async def one_connection() -> None:
        # a new connection for every request, so the requests spread over both workers
        headers = {"authorization": f"Bearer {key}", "connection": "close"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as c:
            while pending:
                i = pending.pop()
                text = "FAULT:slow spend" if i % 3 == 0 else f"spend {i}"
                r = await c.post("/v1/chat/completions", json={
                    "model": "open", "max_tokens": 40, "messages": [{"role": "user", "content": text}]})
                statuses.append(r.status_code)
                assert "server" not in r.headers  # workers do not advertise the server software either
                if r.status_code == 200:
                    ok_ids.append(r.headers["x-request-id"])

    await asyncio.wait_for(asyncio.gather(*(one_connection() for _ in range(8))), timeout=40)
    return statuses, ok_ids


def _requests_total(url: str) -> float:
    """``interlock_requests_total`` over every series, as one scrape (one worker) reports it."""
    with httpx.Client(timeout=5) as c:  # a fresh connection: the scrape lands on either worker
        text = c.get(url + "/metrics").text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("interlock_requests_total{"))


def _hashes(url: str, n: int) -> set[str]:
    """The config hash as n fresh connections see it (they land on either worker)."""
    seen = set()
    for _ in range(n):
        with httpx.Client(headers={"authorization": f"Bearer {ADMIN_KEY}"}, timeout=5) as c:
            seen.add(c.get(url + "/admin/config").json()["config_hash"])
    return seen


def test_two_workers_share_budget_ledger_audit_and_reloads(openai_upstream, tmp_path: Path) -> None:
    _, upstream = openai_upstream
    db, audit = tmp_path / "gateway.db", tmp_path / "audit.db"
    env = {**os.environ, "INTERLOCK_ADMIN_KEY": ADMIN_KEY, "XDG_DATA_HOME": str(tmp_path / "data"), "COLUMNS": "200"}
    env.pop("INTERLOCK_DB_URL", None)
    key, key_id = _create_key(db, env)

    def config(output_per_mtok: float) -> str:
        return yaml.safe_dump({
            "server": {"auth": True, "admin_key_env": "INTERLOCK_ADMIN_KEY"},
            "accounting": {"database_url": str(db)}, "audit_log": str(audit),
            "resilience": {"retry": {"max_attempts": 1}},
            "deployments": [openai_deployment("open", upstream, price={**PRICE, "output_per_mtok": output_per_mtok})],
        })

    path, log, port = tmp_path / "gateway.yaml", tmp_path / "gateway.log", free_port()
    path.write_text(config(2000.0))
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "interlock.cli.main", "serve", "-c", str(path), "--port", str(port),
               "--workers", "2", "--log-format", "text"]
    with log.open("wb") as err:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, env=env)
    try:
        deadline = time.monotonic() + 90
        while "Ready" not in log.read_text() or log.read_text().count("Ready") < 2:
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        statuses, ok_ids = asyncio.run(_hammer(url, key))
        # whichever worker answers the scrape, the counters are the sum over both
        assert {_requests_total(url) for _ in range(6)} == {float(REQUESTS)}
        path.write_text(config(2500.0))
        reload = httpx.post(url + "/admin/reload", headers={"authorization": f"Bearer {ADMIN_KEY}"}, timeout=10)
        assert reload.status_code == 200, reload.text
        new_hash, started = reload.json()["config_hash"], time.monotonic()
        while _hashes(url, 6) != {new_hash}:
            assert time.monotonic() - started < 5, "a worker still serves the old config after 5 s"
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=60)
    said = log.read_text()
    assert code in (0, -signal.SIGTERM) and "Traceback" not in said, said[-3000:]
    assert len({line.split("]")[0] for line in said.splitlines() if line.startswith("[worker ")}) == 2

    served = statuses.count(200)
    assert served + statuses.count(429) + statuses.count(402) == REQUESTS and 0 < served < REQUESTS
    database = open_database(str(db))
    try:
        rows = database.fetchall("SELECT request_id, cost_usd FROM usage_records WHERE key_id = ? AND status = 'ok'",
                                 (key_id,))
        # the workers kept the key's budget in the database they share, not each in its own memory
        counters = database.fetchall("SELECT spent FROM budget_counters WHERE counter_id LIKE ?", (f"key:{key_id}:%",))
    finally:
        database.close()
    assert sorted(r[0] for r in rows) == sorted(ok_ids)  # one ledger row per served request
    costs = [Decimal(str(r[1])) for r in rows]
    assert sum(costs, Decimal(0)) - BUDGET_USD <= max(costs)  # the two workers never spent the budget twice
    assert len(counters) == 1 and Decimal(counters[0][0]) / 10**9 >= sum(costs, Decimal(0))
    chain = AuditLog(audit)
    try:
        result = chain.verify()
        audited = [r for r in chain.records() if r.key_id == key_id]
    finally:
        chain.close()
    assert result.ok, result.problem
    assert len(audited) == REQUESTS


def test_workers_do_not_start_on_a_database_that_cannot_be_opened(tmp_path: Path) -> None:
    config = tmp_path / "gateway.yaml"
    config.write_text(yaml.safe_dump({
        "server": {"auth": True},
        "accounting": {"database_url": "postgresql://gw:s3cret@127.0.0.1:1/interlock"},
        "audit_log": str(tmp_path / "audit.db"),
        "deployments": [openai_deployment("open", "http://127.0.0.1:9")],
    }))
    done = subprocess.run([sys.executable, "-m", "interlock.cli.main", "serve", "-c", str(config), "--port",
                           str(free_port()), "--workers", "2", "--log-format", "text"],
                          capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "200"}, check=False)
    said = " ".join(done.stderr.split())
    assert done.returncode == 1, said
    assert "cannot start: the database postgresql://gw:***@127.0.0.1:1/interlock cannot be opened" in said
    assert "s3cret" not in said
