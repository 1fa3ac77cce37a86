"""Numbered migrations: applied once, recorded, and producing the same schema on both backends."""

from __future__ import annotations

from pathlib import Path

import psycopg

from interlock.storage.database import Database, default_sqlite_path, open_database
from interlock.storage.migrations import MIGRATIONS, applied_versions, migrate
from interlock.storage.sqlite import SQLiteDatabase

EXPECTED_COLUMNS = [
    "id",
    "ts",
    "request_id",
    "key_id",
    "team",
    "route",
    "category",
    "model",
    "model_version",
    "deployment",
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "usage_estimated",
    "cost_usd",
    "baseline_cost_usd",
    "latency_ms",
    "attempts",
    "decision_reason",
    "config_hash",
    "status",
]


def columns(db: Database, table: str) -> list[str]:
    if db.dialect.name == "sqlite":
        return [row[1] for row in db.fetchall(f"PRAGMA table_info({table})")]
    rows = db.fetchall(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
        (table,),
    )
    return [row[0] for row in rows]


def indexes(db: Database, table: str) -> set[str]:
    if db.dialect.name == "sqlite":
        return {
            row[1] for row in db.fetchall(f"PRAGMA index_list({table})") if not row[1].startswith("sqlite_")
        }
    rows = db.fetchall(
        "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ?", (table,)
    )
    return {row[0] for row in rows}


def test_a_fresh_database_gets_every_migration_recorded(database: Database) -> None:
    assert applied_versions(database) == [m.version for m in MIGRATIONS]
    assert migrate(database) == []  # a second run does nothing
    assert columns(database, "usage_records") == EXPECTED_COLUMNS
    assert {"usage_records_ts", "usage_records_team_ts", "usage_records_key_ts"} <= indexes(
        database, "usage_records"
    )
    assert "api_keys_team" in indexes(database, "api_keys")


def test_an_older_database_is_brought_up_to_date(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = SQLiteDatabase(path)
    assert migrate(old, MIGRATIONS[:1]) == [1]
    old.close()

    db = open_database(str(path))
    assert applied_versions(db) == [1, 2, 3, 4]
    names = {row[0] for row in db.fetchall("SELECT name FROM schema_migrations")}
    assert names == {"usage_records", "api_keys", "gateway_instances", "usage_hourly"}
    db.close()


def test_postgres_schema_matches_sqlite(tmp_path: Path, postgres_url: str, pg_schema: str) -> None:
    sqlite_db = open_database(str(tmp_path / "a.db"))
    pg_db = open_database(postgres_url, schema=pg_schema)
    try:
        for table in ("usage_records", "api_keys", "gateway_instances", "schema_migrations"):
            assert columns(sqlite_db, table) == columns(pg_db, table)
            assert indexes(sqlite_db, table) <= indexes(pg_db, table)
    finally:
        sqlite_db.close()
        pg_db.close()
    with psycopg.connect(postgres_url) as conn:
        found = conn.execute(
            "SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", (pg_schema,)
        ).fetchone()
    assert found is not None


def test_without_a_url_the_database_lives_in_the_user_data_dir(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_sqlite_path() == tmp_path / "xdg" / "interlock" / "interlock.db"
    open_database(None).close()
    assert (tmp_path / "xdg" / "interlock" / "interlock.db").exists()


def test_sqlite_urls_and_plain_paths(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    open_database("sqlite:///relative.db").close()
    open_database(f"sqlite:///{tmp_path}/absolute.db").close()
    open_database(str(tmp_path / "plain.db")).close()
    assert {"relative.db", "absolute.db", "plain.db"} <= {p.name for p in tmp_path.iterdir()}
