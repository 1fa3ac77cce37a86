"""Fixtures for version management: a real database (a SQLite file; and the real PostgreSQL
for the store tests that take ``database``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from services import database, pg_schema, postgres_url  # noqa: F401  (fixtures)

from interlock.storage.database import Database, open_database


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    db = open_database(str(tmp_path / "interlock.db"))
    yield db
    db.close()
