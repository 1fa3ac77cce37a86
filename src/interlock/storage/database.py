"""The database seam: one small Protocol that SQLite and PostgreSQL both implement.

Stores (ledger, keys) are written once against ``Database``; each backend adapts
parameters (``?`` placeholders, datetimes, decimals) and supplies its column types
through ``Dialect`` so migrations produce the same schema on both.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

Row = tuple[Any, ...]

ENV_DB_URL = "INTERLOCK_DB_URL"


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str
    column_types: dict[str, str]
    migration_lock: str | None = None


class Transaction(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> int: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...


class Database(Protocol):
    """A connection that runs ``?``-placeholder SQL; safe to share between threads."""

    dialect: Dialect

    def transaction(self) -> AbstractContextManager[Transaction]: ...

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    def close(self) -> None: ...


def default_sqlite_path() -> Path:
    """``interlock.db`` in the user's data directory."""
    try:
        from platformdirs import user_data_path
    except ImportError:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
        return base / "interlock" / "interlock.db"
    return Path(user_data_path("interlock", appauthor=False)) / "interlock.db"


def is_postgres_url(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def open_database(url: str | None = None, *, schema: str | None = None) -> Database:
    """Open (and migrate) the database named by ``url``.

    ``None`` or empty: the default SQLite file. ``postgresql://...``: PostgreSQL.
    ``sqlite:///relative/path``, ``sqlite:////absolute/path``, a plain path or
    ``:memory:``: SQLite. ``schema`` (PostgreSQL only) keeps the tables in that schema.
    """
    from interlock.storage.migrations import migrate

    db: Database
    if url and is_postgres_url(url):
        from interlock.storage.postgres import PostgresDatabase

        db = PostgresDatabase(url, schema=schema)
    else:
        from interlock.storage.sqlite import SQLiteDatabase

        path = url.removeprefix("sqlite:///") if url else str(default_sqlite_path())
        db = SQLiteDatabase(path)
    migrate(db)
    return db


def to_utc(value: datetime) -> datetime:
    """Naive datetimes are taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_iso(value: datetime) -> str:
    """A moment as UTC ISO text to the microsecond ('2025-06-10T09:00:00.000000+00:00'): exact, read back
    by ``as_datetime``, and far cheaper to pickle than a ``datetime``."""
    return to_utc(value).isoformat(timespec="microseconds")


_SECOND: tuple[int, str] = (-1, "")  # one tuple, so threads never see a torn pair


def utc_now_iso() -> str:
    """``utc_iso(datetime.now(UTC))``, made from the clock without a ``datetime``: the date and time
    of day are formatted once a second, and only the microseconds per call."""
    global _SECOND
    now = time.time()
    second = int(now)
    cached = _SECOND
    if cached[0] != second:
        cached = _SECOND = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
    return f"{cached[1]}.{int((now - second) * 1_000_000):06d}+00:00"


def as_datetime(value: Any) -> datetime | None:
    """Read a timestamp column (ISO text from SQLite, ``datetime`` from PostgreSQL)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return to_utc(value)
    return to_utc(datetime.fromisoformat(str(value)))


def as_decimal(value: Any, places: int = 10) -> Decimal | None:
    """Read a money column; SQLite's REAL is rounded back to the stored precision."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    return round(Decimal(repr(float(value))), places)
