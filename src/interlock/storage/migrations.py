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
    Migration(
        4,
        "usage_hourly",
        (
            # Hourly totals per dimension (``all``, team, key, model, route, category, deployment,
            # category_model), kept up to date by SqlLedgerStore.append in the same transaction as the
            # records, so the console reads a month in a few thousand rows. ``value`` is '' for NULL.
            """CREATE TABLE usage_hourly (
                hour TEXT NOT NULL,
                dim TEXT NOT NULL,
                value TEXT NOT NULL,
                requests INTEGER NOT NULL DEFAULT 0,
                errors INTEGER NOT NULL DEFAULT 0,
                prompt_tokens INTEGER NOT NULL DEFAULT 0,
                completion_tokens INTEGER NOT NULL DEFAULT 0,
                cost_usd {money} NOT NULL DEFAULT 0,
                baseline_cost_usd {money} NOT NULL DEFAULT 0,
                savings_usd {money} NOT NULL DEFAULT 0,
                unpriced INTEGER NOT NULL DEFAULT 0,
                latency_ms_sum INTEGER NOT NULL DEFAULT 0,
                latency_count INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (dim, value, hour)
            )""",
            "CREATE INDEX usage_hourly_dim_hour ON usage_hourly (dim, hour)",
            # Records older than the table are rolled up once (SqlLedgerStore.backfill_hourly): ids below it.
            """CREATE TABLE usage_hourly_state (
                id INTEGER PRIMARY KEY,
                backfill_from BIGINT NOT NULL DEFAULT 0,
                backfill_below BIGINT NOT NULL,
                backfilled_at {timestamp}
            )""",
            # an empty ledger has nothing to backfill: marked done at once
            ("INSERT INTO usage_hourly_state (id, backfill_below, backfilled_at) "
             "SELECT 1, COALESCE(MAX(id), 0) + 1, CASE WHEN COUNT(*) = 0 THEN CURRENT_TIMESTAMP END "
             "FROM usage_records"),
            "CREATE INDEX usage_records_deployment_ts ON usage_records (deployment, ts)",
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
