"""The audit log in PostgreSQL: one hash chain shared by every gateway replica on the database.

The same records, hashes and checks as the SQLite ``AuditLog`` (``audit.py``); only the storage
differs. An append locks the head row (``SELECT ... FOR UPDATE``), so concurrent writers queue
for it and each chains onto the newest record. Triggers refuse UPDATE, DELETE and TRUNCATE of the
records; the schema migrations of this log are numbered in ``audit_migrations`` and applied under
an advisory lock, so replicas starting together do not race.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from interlock.compliance.audit import (
    ROW_COLUMNS,
    AuditEntry,
    AuditLogDamaged,
    AuditRecord,
    EntryWire,
    VerifyResult,
    _timestamp,
    chain_head,
    chain_rows,
    entry_wire,
    record_from_row,
    records_of,
    verify_chain,
)

_GENESIS_SQL = "'" + "0" * 64 + "'"
_MIGRATION_LOCK = 7424658  # the ledger's migrations take 7424657

_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE IF NOT EXISTS audit_records (
            seq BIGINT PRIMARY KEY, time TEXT NOT NULL, request_id TEXT NOT NULL, key_id TEXT,
            team TEXT, data_classes TEXT NOT NULL, rules TEXT NOT NULL, action TEXT NOT NULL,
            deployment TEXT, perimeter TEXT, region TEXT, config_hash TEXT NOT NULL,
            sent_to TEXT, prev_hash TEXT NOT NULL, hash TEXT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS audit_records_time ON audit_records (time)",
        """CREATE OR REPLACE FUNCTION audit_records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit records are append-only'; END $$""",
        "DROP TRIGGER IF EXISTS audit_records_no_change ON audit_records",
        """CREATE TRIGGER audit_records_no_change BEFORE UPDATE OR DELETE ON audit_records
        FOR EACH ROW EXECUTE FUNCTION audit_records_append_only()""",
        "DROP TRIGGER IF EXISTS audit_records_no_truncate ON audit_records",
        """CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE ON audit_records
        FOR EACH STATEMENT EXECUTE FUNCTION audit_records_append_only()""",
        """CREATE TABLE IF NOT EXISTS audit_head (
            id INTEGER PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL, hash TEXT NOT NULL
        )""",
        f"INSERT INTO audit_head VALUES (1, 0, {_GENESIS_SQL}) ON CONFLICT (id) DO NOTHING",
    ),
)

_INSERT = f"INSERT INTO audit_records ({', '.join(ROW_COLUMNS)}) VALUES ({', '.join('%s' for _ in ROW_COLUMNS)})"
_PAGE = 5000


def _utc_now() -> datetime:
    return datetime.now(UTC)


class PostgresAuditLog:
    """The audit store in PostgreSQL tables; one connection shared by threads under a lock."""

    def __init__(self, url: str, *, clock: Callable[[], datetime] = _utc_now, connect_timeout_s: int = 10) -> None:
        self._url = url
        self._clock = clock
        self._connect_timeout_s = connect_timeout_s
        self._lock = threading.Lock()
        self._conn = self._connect()
        self._migrate()

    def _connect(self) -> psycopg.Connection[dict[str, Any]]:
        return psycopg.connect(self._url, autocommit=True, connect_timeout=self._connect_timeout_s,
                               row_factory=dict_row)

    def _connection(self) -> psycopg.Connection[dict[str, Any]]:
        if self._conn.closed or self._conn.broken:
            self._conn = self._connect()
        return self._conn

    def _migrate(self) -> None:
        with self._lock, self._connection().transaction():
            conn = self._conn
            conn.execute(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
            conn.execute("CREATE TABLE IF NOT EXISTS audit_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)")
            done = {row["version"] for row in conn.execute("SELECT version FROM audit_migrations")}
            for version, statements in enumerate(_MIGRATIONS, start=1):
                if version in done:
                    continue
                for statement in statements:
                    conn.execute(statement)
                conn.execute("INSERT INTO audit_migrations VALUES (%s, %s)", (version, _timestamp(self._clock())))

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def append(self, entry: AuditEntry) -> AuditRecord:
        """Add one record at the end of the chain (atomically, even across replicas)."""
        return self.append_many([entry])[0]

    def append_many(self, entries: Sequence[AuditEntry]) -> list[AuditRecord]:
        """Add records in order in one transaction, holding the head row's lock throughout."""
        return records_of(entries, self.append_wire([entry_wire(e) for e in entries]))

    def append_wire(self, entries: Sequence[EntryWire]) -> list[list[Any]]:
        """``append_many`` of entries in wire form (what the writer process receives); the rows written."""
        with self._lock:
            conn = self._connection()
            with conn.transaction(), conn.cursor() as cur:
                head = cur.execute("SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE").fetchone()
                if head is None:
                    raise AuditLogDamaged(
                        "the audit log's head row is missing (the table was altered); run `interlock audit verify`"
                    )
                seq, prev = int(head["seq"]), str(head["hash"])
                rows = chain_rows(entries, seq, prev, self._clock)
                cur.executemany(_INSERT, rows)
                cur.execute("UPDATE audit_head SET seq = %s, hash = %s WHERE id = 1", chain_head(rows, seq, prev))
        return rows

    def head(self) -> tuple[int, str]:
        """(sequence number, hash) of the newest record; store it elsewhere to anchor the chain."""
        with self._lock:
            row = self._connection().execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
        if row is None:
            raise AuditLogDamaged("the audit log's head row is missing (the table was altered)")
        return int(row["seq"]), str(row["hash"])

    def records(self, since: datetime | date | None = None) -> Iterator[AuditRecord]:
        """Records in chain order, optionally only those at or after ``since`` (UTC); read a page at a time."""
        after = 0
        while True:
            with self._lock:
                rows = self._page(after, since)
            for row in rows:
                yield record_from_row(row)
            if len(rows) < _PAGE:
                return
            after = int(rows[-1]["seq"])

    def _page(self, after: int, since: datetime | date | None) -> list[dict[str, Any]]:
        columns = ", ".join(ROW_COLUMNS)
        if since is None:
            return self._connection().execute(
                f"SELECT {columns} FROM audit_records WHERE seq > %s ORDER BY seq LIMIT {_PAGE}", (after,)
            ).fetchall()
        return self._connection().execute(
            f"SELECT {columns} FROM audit_records WHERE seq > %s AND time >= %s ORDER BY seq LIMIT {_PAGE}",
            (after, _timestamp(since)),
        ).fetchall()

    def export(self, since: datetime | date | None = None) -> Iterator[dict[str, Any]]:
        for record in self.records(since):
            yield record.to_dict()

    def verify(self, anchor: tuple[int, str] | None = None) -> VerifyResult:
        """Walk the chain in one repeatable-read snapshot, so writers appending meanwhile do not matter."""
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                head = conn.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
                rows = conn.execute(f"SELECT {', '.join(ROW_COLUMNS)} FROM audit_records ORDER BY seq").fetchall()
            finally:
                conn.execute("COMMIT")
        stored = None if head is None else (int(head["seq"]), str(head["hash"]))
        return verify_chain((record_from_row(r) for r in rows), stored, anchor)

    def drop_tables(self) -> None:
        """Remove this log's tables (for tests: the triggers refuse anything less)."""
        with self._lock:
            conn = self._connection()
            for table in ("audit_records", "audit_head", "audit_migrations"):
                conn.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
            conn.execute("DROP FUNCTION IF EXISTS audit_records_append_only()")
