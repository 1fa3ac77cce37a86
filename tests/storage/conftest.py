"""Storage fixtures: every store test runs on a SQLite file and on the real PostgreSQL
(its own schema per test, dropped afterwards)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from services import pg_schema, postgres_url  # noqa: F401  (fixtures)

from interlock.storage.database import Database, open_database


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        db = open_database(str(tmp_path / "interlock.db"))
    else:
        db = open_database(
            request.getfixturevalue("postgres_url"), schema=request.getfixturevalue("pg_schema")
        )
    yield db
    db.close()
