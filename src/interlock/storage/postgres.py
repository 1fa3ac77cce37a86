"""PostgreSQL backend (psycopg 3): for several gateway processes sharing one ledger.

One connection shared by threads under a lock, reconnected if the server dropped it.
An optional ``schema`` keeps interlock's tables (or a test run's) in their own namespace.
Stores write ``?`` placeholders; they become ``%s`` here (no statement uses a literal
``?`` or ``%``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql

from interlock.storage.database import Dialect, Row

POSTGRES = Dialect(
    name="postgresql",
    column_types={
        "pk": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
        "timestamp": "TIMESTAMPTZ",
        "money": "NUMERIC(20, 10)",
        "boolean": "BOOLEAN",
        "false": "FALSE",
    },
    # Several processes starting at once must not apply the same migration twice.
    migration_lock="SELECT pg_advisory_xact_lock(7424657)",
)


def _placeholders(statement: str) -> str:
    return statement.replace("?", "%s")


class _Cursor:
    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        self._cursor = cursor

    def execute(self, statement: str, params: Sequence[Any] = ()) -> int:
        self._cursor.execute(_placeholders(statement), list(params))
        return self._cursor.rowcount

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cursor.executemany(_placeholders(statement), [list(r) for r in rows])

    def fetchall(self, statement: str, params: Sequence[Any] = ()) -> list[Row]:
        self._cursor.execute(_placeholders(statement), list(params))
        return [tuple(r) for r in self._cursor.fetchall()]


class PostgresDatabase:
    dialect = POSTGRES

    def __init__(self, url: str, *, schema: str | None = None, connect_timeout_s: int = 10) -> None:
        self.url = url
        self.schema = schema
        self._connect_timeout_s = connect_timeout_s
        self._lock = threading.RLock()
        self._conn = self._connect()

    def _connect(self) -> psycopg.Connection[Any]:
        conn = psycopg.connect(self.url, autocommit=True, connect_timeout=self._connect_timeout_s)
        if self.schema:
            name = sql.Identifier(self.schema)
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(name))
            conn.execute(sql.SQL("SET search_path TO {}").format(name))
        return conn

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn.closed or self._conn.broken:
            self._conn = self._connect()
        return self._conn

    @contextmanager
    def transaction(self) -> Iterator[_Cursor]:
        with self._lock:
            conn = self._connection()
            with conn.transaction(), conn.cursor() as cursor:
                yield _Cursor(cursor)

    def fetchall(self, statement: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._lock, self._connection().cursor() as cursor:
            return _Cursor(cursor).fetchall(statement, params)

    def drop_schema(self) -> None:
        """Remove this database's schema and everything in it (used by tests)."""
        if not self.schema:
            raise ValueError("no schema to drop")
        with self._lock:
            self._connection().execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.schema))
            )

    def close(self) -> None:
        with self._lock:
            self._conn.close()
