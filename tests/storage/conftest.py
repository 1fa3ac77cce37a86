"""Storage fixtures: every store test runs on a SQLite file and on the real PostgreSQL
(its own schema per test, dropped afterwards)."""

from __future__ import annotations

from services import database, pg_schema, postgres_url  # noqa: F401  (fixtures)
