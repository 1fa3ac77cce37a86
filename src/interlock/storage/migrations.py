"""Numbered schema migrations, applied in order and recorded in ``schema_migrations``.

Each statement names column types as ``{timestamp}``, ``{money}``, ``{boolean}``,
``{pk}`` and ``{false}``; the dialect fills them in, so SQLite and PostgreSQL get the
same tables, columns and indexes. Never edit a released migration; add the next number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from interlock.storage.database import Database


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "usage_records",
        (
            """CREATE TABLE usage_records (
                id {pk},
                ts {timestamp} NOT NULL,
                request_id TEXT NOT NULL,
                key_id TEXT,
                team TEXT,
                route TEXT,
                category TEXT,
                model TEXT NOT NULL,
                model_version TEXT,
                deployment TEXT,
                prompt_tokens INTEGER NOT NULL DEFAULT 0,
                completion_tokens INTEGER NOT NULL DEFAULT 0,
                cached_tokens INTEGER NOT NULL DEFAULT 0,
                usage_estimated {boolean} NOT NULL DEFAULT {false},
                cost_usd {money},
                baseline_cost_usd {money},
                latency_ms INTEGER,
                attempts INTEGER NOT NULL DEFAULT 1,
                decision_reason TEXT,
                config_hash TEXT,
                status TEXT NOT NULL
            )""",
            "CREATE INDEX usage_records_ts ON usage_records (ts)",
            "CREATE INDEX usage_records_team_ts ON usage_records (team, ts)",
            "CREATE INDEX usage_records_key_ts ON usage_records (key_id, ts)",
            "CREATE INDEX usage_records_request_id ON usage_records (request_id)",
        ),
    ),
    Migration(
        2,
        "api_keys",
        (
            """CREATE TABLE api_keys (
                key_id TEXT PRIMARY KEY,
                key_hash TEXT NOT NULL UNIQUE,
                key_hint TEXT NOT NULL,
                team TEXT NOT NULL,
                budget_usd {money},
                budget_period TEXT NOT NULL DEFAULT 'month',
                rpm INTEGER,
                tpm INTEGER,
                models TEXT NOT NULL DEFAULT '[]',
                created_at {timestamp} NOT NULL,
                revoked_at {timestamp}
            )""",
            "CREATE INDEX api_keys_team ON api_keys (team)",
        ),
    ),
    Migration(
        3,
        "gateway_instances",
        (
            """CREATE TABLE gateway_instances (
                instance_id TEXT PRIMARY KEY,
                lease TEXT NOT NULL,
                host TEXT NOT NULL,
                pid INTEGER NOT NULL,
                budgets TEXT NOT NULL,
                started_at {timestamp} NOT NULL,
                heartbeat_at {timestamp} NOT NULL
            )""",
        ),
    ),
)

_CREATE_TABLE = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at {timestamp} NOT NULL
)"""


def migrate(db: Database, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[int]:
    """Apply every migration not yet recorded, in one transaction; return their numbers."""
    types = db.dialect.column_types
    applied_now: list[int] = []
    with db.transaction() as tx:
        if db.dialect.migration_lock:
            tx.fetchall(db.dialect.migration_lock)
        tx.execute(_CREATE_TABLE.format(**types))
        done = {row[0] for row in tx.fetchall("SELECT version FROM schema_migrations")}
        for migration in sorted(migrations, key=lambda m: m.version):
            if migration.version in done:
                continue
            for statement in migration.statements:
                tx.execute(statement.format(**types))
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, datetime.now(UTC)),
            )
            applied_now.append(migration.version)
    return applied_now


def applied_versions(db: Database) -> list[int]:
    return [row[0] for row in db.fetchall("SELECT version FROM schema_migrations ORDER BY version")]
