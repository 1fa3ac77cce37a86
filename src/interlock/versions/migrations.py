"""The versions tables (shadow results, config history) as numbered migrations.

They run on storage's migration runner and are recorded in its ``schema_migrations`` table,
numbered from 1001 so storage's own series can keep growing without a collision.
"""

from __future__ import annotations

from interlock.storage.database import Database, open_database
from interlock.storage.migrations import Migration, migrate

VERSIONS_MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1001,
        "shadow_results",
        (
            """CREATE TABLE shadow_results (
                id {pk},
                ts {timestamp} NOT NULL,
                alias TEXT NOT NULL,
                request_id TEXT NOT NULL,
                config_hash TEXT,
                primary_model TEXT NOT NULL,
                primary_deployment TEXT,
                primary_text TEXT,
                primary_error TEXT,
                primary_latency_ms INTEGER,
                primary_prompt_tokens INTEGER,
                primary_completion_tokens INTEGER,
                primary_cost_usd {money},
                shadow_model TEXT NOT NULL,
                shadow_deployment TEXT,
                shadow_text TEXT,
                shadow_error TEXT,
                shadow_latency_ms INTEGER,
                shadow_prompt_tokens INTEGER,
                shadow_completion_tokens INTEGER,
                shadow_cost_usd {money}
            )""",
            "CREATE INDEX shadow_results_alias_ts ON shadow_results (alias, ts)",
        ),
    ),
    Migration(
        1002,
        "config_history",
        (
            """CREATE TABLE config_history (
                id {pk},
                applied_at {timestamp} NOT NULL,
                config_hash TEXT NOT NULL,
                previous_hash TEXT,
                source TEXT NOT NULL,
                reason TEXT NOT NULL,
                config_text TEXT NOT NULL,
                diff TEXT NOT NULL
            )""",
            "CREATE INDEX config_history_hash ON config_history (config_hash)",
        ),
    ),
)


def ensure_versions_schema(db: Database) -> list[int]:
    """Apply the versions migrations not yet recorded; returns their numbers."""
    return migrate(db, VERSIONS_MIGRATIONS)


def open_versions_database(url: str | None = None) -> Database:
    """``storage.open_database`` (same URL rules) plus the versions tables."""
    db = open_database(url)
    ensure_versions_schema(db)
    return db
