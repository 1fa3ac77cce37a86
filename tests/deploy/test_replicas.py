"""Three ``interlock serve`` replicas on one PostgreSQL database and one Redis, as on three hosts.

Each replica is a real process with its own config file (identical content), port and log. One
module-scoped run: a key with a small budget is hammered through all three at once (bounded:
``REQUESTS`` requests), then a config edit is applied through one replica, then a second key is
revoked; the replicas are stopped with SIGTERM (flushing their ledgers) and the shared state is
read back. The tests check what the issue asks of replicas: the budget holds across them, the
ledger has one row per served request, the audit log is one chain that verifies, a config change
and a revocation reach every replica within 5 s.

PostgreSQL gets a fresh database per run (dropped afterwards); Redis keys are those of this run's
random key ids, deleted afterwards. Skipped with the reason when PostgreSQL or Redis is not running
(with CI=true that is a failure).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest
import yaml
from gateway_harness import openai_deployment
from psycopg import sql
from redis import Redis
from servers import free_port
from services import postgres_url, redis_url  # noqa: F401  (fixtures)

from interlock.compliance.audit_postgres import PostgresAuditLog
from interlock.storage.database import open_database
from interlock.accounting.keys import SqlKeyStore

REPLICAS = 3
REQUESTS = 150
CONCURRENCY = 12
BUDGET_USD = Decimal("1.00")
MAX_TOKENS = 40
# A price that makes one request cost cents, so a dollar lasts a few dozen requests.
PRICE = {"type": "per_token", "input_per_mtok": 1000.0, "output_per_mtok": 2000.0}
ADMIN_KEY = "replica-admin-" + uuid.uuid4().hex


@dataclass
class Replica:
    url: str
    config: Path
    log: Path
    process: subprocess.Popen[bytes]


@dataclass
class Run:
    database_url: str
    key_id: str
    revoked_key_id: str
    statuses: list[int] = field(default_factory=list)
    ok_ids: list[str] = field(default_factory=list)
    reload_seconds: float | None = None
    hashes_after_reload: list[str] = field(default_factory=list)
    new_hash: str = ""
    revocation_seconds: float | None = None
    exit_codes: list[int | None] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)


def _cli(*args: str, env: dict[str, str]) -> str:
    command = [sys.executable, "-m", "interlock.cli.main", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _create_key(database_url: str, env: dict[str, str], *args: str) -> tuple[str, str]:
    secret = _cli("keys", "create", *args, "--db", database_url, env=env).strip().splitlines()[-1]
    db = open_database(database_url)
    try:
        key = SqlKeyStore(db).lookup(secret)
    finally:
        db.close()
    assert key is not None
    return secret, key.key_id


@pytest.fixture(scope="module")
def database_url(postgres_url: str) -> Iterator[str]:  # noqa: F811
    """A database of this run's own in the test cluster, dropped afterwards."""
    name = f"interlock_replicas_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    parts = urlsplit(postgres_url)
    yield urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _config(database_url: str, redis: str, upstream: str, output_per_mtok: float) -> str:
    return yaml.safe_dump({
        "server": {"auth": True, "admin_key_env": "INTERLOCK_ADMIN_KEY"},
        # the audit log follows the database to PostgreSQL: no audit_log needed
        "accounting": {"database_url": database_url, "redis_url": redis},
        "resilience": {"retry": {"max_attempts": 1}},
        "deployments": [openai_deployment("open", upstream, price={**PRICE, "output_per_mtok": output_per_mtok})],
    })


def _start(config: Path, port: int, log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "interlock.cli.main", "serve", "--config", str(config), "--port", str(port),
               "--workers", "1", "--log-level", "info"]
    with log.open("wb") as err:
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, env=env)


def _wait_ready(replicas: list[Replica], timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    waiting = list(replicas)
    while waiting and time.monotonic() < deadline:
        for replica in list(waiting):
            if replica.process.poll() is not None:
                pytest.fail(f"replica {replica.url} exited at start:\n{replica.log.read_text()[-3000:]}")
            try:
                if httpx.get(replica.url + "/readyz", timeout=2).status_code == 200:
                    waiting.remove(replica)
            except httpx.TransportError:
                pass
        time.sleep(0.2)
    assert not waiting, f"replicas not ready in {timeout_s}s: {[r.url for r in waiting]}"


async def _hammer(replicas: list[Replica], key: str, run: Run) -> None:
    """REQUESTS chat requests spread over the replicas, CONCURRENCY at a time; every third is slow upstream."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(REQUESTS):
        queue.put_nowait(i)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            i = queue.get_nowait()
            text = "FAULT:slow spend" if i % 3 == 0 else f"spend {i}"
            response = await client.post(
                replicas[i % len(replicas)].url + "/v1/chat/completions",
                json={"model": "open", "max_tokens": MAX_TOKENS, "messages": [{"role": "user", "content": text}]})
            run.statuses.append(response.status_code)
            if response.status_code == 200:
                run.ok_ids.append(response.headers["x-request-id"])

    async with httpx.AsyncClient(headers={"authorization": f"Bearer {key}"}, timeout=30) as client:
        await asyncio.wait_for(asyncio.gather(*(worker(client) for _ in range(CONCURRENCY))), timeout=40)


def _config_hash(replica: Replica) -> str:
    response = httpx.get(replica.url + "/admin/config", headers={"authorization": f"Bearer {ADMIN_KEY}"}, timeout=5)
    assert response.status_code == 200, response.text
    return str(response.json()["config_hash"])


def _change_config_everywhere(replicas: list[Replica], text: str, run: Run) -> None:
    """Edit every replica's file (as a rollout does), apply it through the first; time until all serve it."""
    for replica in replicas:
        replica.config.write_text(text, encoding="utf-8")
    started = time.monotonic()
    response = httpx.post(replicas[0].url + "/admin/reload", headers={"authorization": f"Bearer {ADMIN_KEY}"},
                          timeout=10)
    assert response.status_code == 200, response.text
    run.new_hash = response.json()["config_hash"]
    while time.monotonic() - started < 10:
        hashes = [_config_hash(r) for r in replicas]
        if all(h == run.new_hash for h in hashes):
            run.reload_seconds = time.monotonic() - started
            break
        time.sleep(0.1)
    run.hashes_after_reload = [_config_hash(r) for r in replicas]


def _revoke_and_time(replicas: list[Replica], secret: str, key_id: str, env: dict[str, str], run: Run) -> None:
    chat = {"model": "open", "max_tokens": 5, "messages": [{"role": "user", "content": "before revoking"}]}
    headers = {"authorization": f"Bearer {secret}"}
    for replica in replicas:  # every replica has the key in its cache now
        assert httpx.post(replica.url + "/v1/chat/completions", json=chat, headers=headers, timeout=10).status_code == 200
    _cli("keys", "revoke", key_id, "--db", run.database_url, env=env)
    started = time.monotonic()
    refused: set[str] = set()
    while time.monotonic() - started < 10 and len(refused) < len(replicas):
        for replica in replicas:
            if replica.url not in refused:
                status = httpx.post(replica.url + "/v1/chat/completions", json=chat, headers=headers,
                                    timeout=10).status_code
                if status == 401:
                    refused.add(replica.url)
        time.sleep(0.05)
    if len(refused) == len(replicas):
        run.revocation_seconds = time.monotonic() - started


@pytest.fixture(scope="module")
def run(openai_upstream, database_url: str, redis_url: str, tmp_path_factory) -> Iterator[Run]:  # noqa: F811
    _, upstream = openai_upstream
    tmp = tmp_path_factory.mktemp("replicas")
    # a data dir of the run's own: nothing may fall back to the user's default files unnoticed
    env = {**os.environ, "INTERLOCK_ADMIN_KEY": ADMIN_KEY, "XDG_DATA_HOME": str(tmp / "data"), "COLUMNS": "200"}
    env.pop("INTERLOCK_DB_URL", None)
    team = f"replicas-{uuid.uuid4().hex[:8]}"
    key, key_id = _create_key(database_url, env, "--team", team, "--budget-usd", str(BUDGET_USD))
    spare, spare_id = _create_key(database_url, env, "--team", team)
    text = _config(database_url, redis_url, upstream, PRICE["output_per_mtok"])
    replicas: list[Replica] = []
    result = Run(database_url, key_id, spare_id)
    try:
        for i in range(REPLICAS):
            config, log, port = tmp / f"replica{i}.yaml", tmp / f"replica{i}.log", free_port()
            config.write_text(text, encoding="utf-8")
            replicas.append(Replica(f"http://127.0.0.1:{port}", config, log, _start(config, port, log, env)))
        _wait_ready(replicas)
        asyncio.run(_hammer(replicas, key, result))
        _change_config_everywhere(replicas, _config(database_url, redis_url, upstream, 2500.0), result)
        _revoke_and_time(replicas, spare, spare_id, env, result)
    finally:
        for replica in replicas:
            if replica.process.poll() is None:
                replica.process.send_signal(signal.SIGTERM)
        for replica in replicas:
            try:
                result.exit_codes.append(replica.process.wait(timeout=30))
            except subprocess.TimeoutExpired:
                replica.process.kill()
                result.exit_codes.append(replica.process.wait(timeout=10))
            result.logs.append(replica.log.read_text(encoding="utf-8", errors="replace"))
        client = Redis.from_url(redis_url)
        try:
            stale = [k for pattern in (f"interlock:*{key_id}*", f"interlock:*{spare_id}*", f"interlock:*{team}*")
                     for k in client.scan_iter(match=pattern, count=500)]
            if stale:
                client.delete(*stale)
        finally:
            client.close()
    yield result


def test_replicas_stop_cleanly(run: Run) -> None:
    # uvicorn re-raises the SIGTERM it handled once shutdown is done: -15 is a clean exit too
    assert all(code in (0, -signal.SIGTERM) for code in run.exit_codes), "\n\n".join(log[-2000:] for log in run.logs)
    assert not any("Traceback" in log for log in run.logs), "\n\n".join(log[-3000:] for log in run.logs)


def test_the_budget_holds_across_replicas(run: Run) -> None:
    served, refused = run.statuses.count(200), run.statuses.count(402) + run.statuses.count(429)
    assert served + refused == REQUESTS, sorted(set(run.statuses))
    assert served > 0 and refused > 0  # the budget was reached, through all three replicas
    db = open_database(run.database_url)
    try:
        rows = db.fetchall("SELECT cost_usd FROM usage_records WHERE key_id = ? AND status = 'ok'", (run.key_id,))
    finally:
        db.close()
    costs = [Decimal(str(r[0])) for r in rows]
    overshoot = sum(costs, Decimal(0)) - BUDGET_USD
    assert overshoot <= max(costs), f"spent {sum(costs)} of a {BUDGET_USD} budget"


def test_ledger_has_one_row_per_served_request(run: Run) -> None:
    db = open_database(run.database_url)
    try:
        ids = [r[0] for r in db.fetchall(
            "SELECT request_id FROM usage_records WHERE key_id = ? AND status = 'ok'", (run.key_id,))]
    finally:
        db.close()
    assert len(ids) == len(run.ok_ids)
    assert sorted(ids) == sorted(run.ok_ids)


def test_audit_log_is_one_chain_that_verifies(run: Run) -> None:
    log = PostgresAuditLog(run.database_url)
    try:
        result = log.verify()
        audited = [r for r in log.records() if r.key_id == run.key_id]
    finally:
        log.close()
    assert result.ok, result.problem
    assert len(audited) == REQUESTS  # served and refused alike
    env = {**os.environ, "COLUMNS": "200"}
    verify = subprocess.run([sys.executable, "-m", "interlock.cli.main", "audit", "verify", "--path", run.database_url],
                            capture_output=True, text=True, timeout=60, env=env, check=False)
    assert verify.returncode == 0, verify.stderr
    assert f"{result.records_checked} records, chain intact" in " ".join(verify.stderr.split())


def test_a_config_change_reaches_every_replica_within_5s(run: Run) -> None:
    assert run.hashes_after_reload == [run.new_hash] * REPLICAS
    assert run.reload_seconds is not None and run.reload_seconds <= 5.0


def test_a_revocation_reaches_every_replica_within_5s(run: Run) -> None:
    assert run.revocation_seconds is not None and run.revocation_seconds <= 5.0
