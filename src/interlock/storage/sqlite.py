"""SQLite backend (stdlib ``sqlite3``): the default, one file per user.

One connection shared by threads under a lock; WAL mode so the CLI can read and write
while a server holds the file. Timestamps are stored as fixed-width UTC ISO text so
they compare correctly as strings; money as REAL.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from interlock.storage.database import Dialect, Row, to_utc

SQLITE = Dialect(
    name="sqlite",
    column_types={
        "pk": "INTEGER PRIMARY KEY AUTOINCREMENT",
        "timestamp": "TEXT",
        "money": "REAL",
        "boolean": "INTEGER",
        "false": "0",
    },
)


def _adapt(value: Any) -> Any:
    if isinstance(value, datetime):
        return to_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
    if isinstance(value, Decimal):
        return float(value)
    return value


def _params(params: Sequence[Any]) -> list[Any]:
    return [_adapt(v) for v in params]


class _Cursor:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._conn.execute(sql, _params(params)).rowcount

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._conn.executemany(sql, [_params(r) for r in rows])

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(self._conn.execute(sql, _params(params)).fetchall())


class SQLiteDatabase:
    dialect = SQLITE

    def __init__(self, path: str | Path, *, busy_timeout_s: float = 10.0) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).expanduser().parent.mkdir(parents=True, exist_ok=True)
            self.path = str(Path(self.path).expanduser())
        self._conn = sqlite3.connect(
            self.path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        self._lock = threading.RLock()
        if self.path != ":memory:":
            self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")

    @contextmanager
    def transaction(self) -> Iterator[_Cursor]:
        """A write transaction; ``BEGIN IMMEDIATE`` takes the write lock up front."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield _Cursor(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._lock:
            return _Cursor(self._conn).fetchall(sql, params)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
