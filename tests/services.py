"""Real PostgreSQL and Redis on 127.0.0.1 for tests that need them.

Import the fixtures into a conftest (``from services import postgres_url, ...``). A test
using them is skipped, with the reason, only when the server does not answer on its port;
with ``CI=true`` it fails instead, so CI can never pass by skipping. A server that answers
but refuses us is always a failure. Each test gets its own PostgreSQL schema or Redis key
prefix, removed afterwards.

Overrides: ``INTERLOCK_TEST_POSTGRES_URL`` and ``INTERLOCK_TEST_REDIS_URL``.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from psycopg import sql
from redis.asyncio import Redis

from interlock.storage.database import Database, open_database

PG_HOST, PG_PORT = "127.0.0.1", 5432
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def reachable(host: str, port: int, timeout_s: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def require_listening(name: str, host: str, port: int) -> None:
    if reachable(host, port):
        return
    reason = f"{name} is not reachable at {host}:{port}"
    if in_ci():
        pytest.fail(f"{reason}, and CI=true requires it")
    pytest.skip(f"{reason}; start it to run this test (with CI=true this is a failure)")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A URL that logs in to the ``test`` database (as ``root``, else ``postgres``)."""
    override = os.environ.get("INTERLOCK_TEST_POSTGRES_URL")
    if not override:
        require_listening("PostgreSQL", PG_HOST, PG_PORT)
    candidates = (
        [override]
        if override
        else [f"postgresql://{user}@{PG_HOST}:{PG_PORT}/test" for user in ("root", "postgres")]
    )
    errors = []
    for url in candidates:
        try:
            psycopg.connect(url, connect_timeout=5).close()
            return url
        except psycopg.Error as exc:
            errors.append(f"{url}: {exc}")
    pytest.fail("PostgreSQL answered but refused every login:\n" + "\n".join(errors))


@pytest.fixture
def pg_schema(postgres_url: str) -> Iterator[str]:
    """A fresh schema name for this test; dropped with everything in it afterwards."""
    name = f"interlock_test_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


@pytest.fixture
def pg_audit_url(postgres_url: str, pg_schema: str) -> Iterator[str]:
    """A URL whose connections use the test's schema (created here; ``pg_schema`` drops it)."""
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{pg_schema}"')
    separator = "&" if "?" in postgres_url else "?"
    yield f"{postgres_url}{separator}options={quote(f'-csearch_path={pg_schema}')}"


@pytest.fixture(scope="session")
def redis_url() -> str:
    override = os.environ.get("INTERLOCK_TEST_REDIS_URL")
    if not override:
        require_listening("Redis", REDIS_HOST, REDIS_PORT)
    return override or f"redis://{REDIS_HOST}:{REDIS_PORT}/0"


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    try:
        await client.ping()
    except Exception as exc:
        await client.aclose()
        pytest.fail(f"Redis at {redis_url} answered but would not PING: {exc}")
    yield client
    await client.aclose()


@pytest.fixture
async def redis_prefix(redis_client: Redis) -> AsyncIterator[str]:
    """A key prefix of this test's own; every key under it is deleted afterwards."""
    prefix = f"interlock-test:{uuid.uuid4().hex[:12]}:"
    yield prefix
    keys = [key async for key in redis_client.scan_iter(match=f"{prefix}*", count=500)]
    if keys:
        await redis_client.delete(*keys)


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database on a SQLite file, then on the real PostgreSQL (its own schema, dropped afterwards)."""
    if request.param == "sqlite":
        db = open_database(str(tmp_path / "interlock.db"))
    else:
        db = open_database(
            request.getfixturevalue("postgres_url"), schema=request.getfixturevalue("pg_schema")
        )
    yield db
    db.close()
