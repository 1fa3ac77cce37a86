"""The compliance audit log: an append-only, hash-chained record of where each request went.

Each record holds metadata only (time, request id, key id, team, data classes, rules, action,
deployment, perimeter, region, config hash, every deployment the request was sent to), never a
detected value. Record ``n`` stores the SHA-256 of its canonical JSON and of record ``n-1``'s
hash, so editing, removing or reordering any record breaks the chain from that point on;
``verify`` names the first bad record. Triggers refuse UPDATE and DELETE; a head row catches
removal of the newest records, and ``head()`` can be copied elsewhere to anchor the chain
against someone who rewrites the whole file.

Writers append in one transaction that reads the head, inserts and moves the head, so any number
of threads, worker processes or replicas keep ONE chain: ``AuditLog`` is a SQLite file (``BEGIN
IMMEDIATE`` serialises the processes of one host), ``audit_postgres.PostgresAuditLog`` tables in
PostgreSQL shared by replicas (the head row is locked ``FOR UPDATE``). ``open_audit_log`` picks
the backend from a location: a path or a ``postgresql://`` URL (``audit_location`` finds it).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from json.encoder import encode_basestring_ascii as _quote
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from interlock.storage.database import ENV_DB_URL, default_sqlite_path, is_postgres_url

if TYPE_CHECKING:
    from interlock.config.schema import GatewayConfig

GENESIS = "0" * 64
_FIELDS = (
    "seq",
    "time",
    "request_id",
    "key_id",
    "team",
    "data_classes",
    "rules",
    "action",
    "deployment",
    "perimeter",
    "region",
    "config_hash",
)
# Added by migration 2; records written before it have none, and their hash does not cover it.
_OPTIONAL_FIELDS = ("sent_to",)

# Numbered schema migrations; the applied ones are recorded in schema_migrations. Each is
# idempotent, so two processes opening a new file at once cannot trip over each other.
_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE IF NOT EXISTS audit_records (
        seq INTEGER PRIMARY KEY, time TEXT NOT NULL, request_id TEXT NOT NULL, key_id TEXT,
        team TEXT, data_classes TEXT NOT NULL, rules TEXT NOT NULL, action TEXT NOT NULL,
        deployment TEXT, perimeter TEXT, region TEXT, config_hash TEXT NOT NULL,
        prev_hash TEXT NOT NULL, hash TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS audit_records_time ON audit_records (time);
    CREATE TRIGGER IF NOT EXISTS audit_records_no_update BEFORE UPDATE ON audit_records
        BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
    CREATE TRIGGER IF NOT EXISTS audit_records_no_delete BEFORE DELETE ON audit_records
        BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
    CREATE TABLE IF NOT EXISTS audit_head (
        id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL
    );
    INSERT OR IGNORE INTO audit_head VALUES (1, 0, hex(zeroblob(32)));  -- the genesis hash
    """,
    # Every deployment a request was sent to (a fallback sends it to several), as JSON.
    "ALTER TABLE audit_records ADD COLUMN sent_to TEXT;",
)


class AuditLogDamaged(RuntimeError):
    """The file is not an audit log this code can append to (its head row is gone, say)."""


@dataclass(frozen=True, slots=True)
class Recipient:
    """One deployment that received the request body, and in what form (``route``, ``redact``, ``allow``)."""

    deployment: str
    action: str
    perimeter: str | None = None
    region: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {"deployment": self.deployment, "action": self.action, "perimeter": self.perimeter,
                "region": self.region}


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """What the caller records about one routed (or refused) request. Identifiers only, no values."""

    request_id: str
    data_classes: Sequence[str]
    rules: Sequence[str]
    action: str  # allow | route | redact | block | refuse
    config_hash: str
    key_id: str | None = None  # the key's id or name, never the key itself
    team: str | None = None
    deployment: str | None = None  # the one that answered (or failed last); None when refused
    perimeter: str | None = None
    region: str | None = None
    sent_to: Sequence[Recipient] = ()  # every deployment that received the body, in order


@dataclass(frozen=True, slots=True)
class AuditRecord:
    seq: int
    time: str
    request_id: str
    key_id: str | None
    team: str | None
    data_classes: list[str]
    rules: list[str]
    action: str
    deployment: str | None
    perimeter: str | None
    region: str | None
    config_hash: str
    prev_hash: str = field(default=GENESIS)
    hash: str = field(default="")
    sent_to: list[dict[str, str | None]] | None = None  # None: written before this was recorded

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool
    records_checked: int
    first_bad_seq: int | None = None
    first_bad_request_id: str | None = None
    problem: str | None = None

    def __bool__(self) -> bool:
        return self.ok


def record_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    covered = {k: fields[k] for k in _FIELDS}
    covered.update({k: fields[k] for k in _OPTIONAL_FIELDS if fields.get(k) is not None})
    canonical = json.dumps(covered, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _timestamp(moment: datetime | date) -> str:
    if type(moment) is datetime and moment.tzinfo is UTC and moment.year >= 1000:
        return moment.isoformat(timespec="microseconds")[:-6] + "Z"  # the strftime below, in a third the time
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class AuditStore(Protocol):
    """What the gateway and ``interlock audit`` need of an audit log, whatever holds it."""

    def append_many(self, entries: Sequence[AuditEntry]) -> list[AuditRecord]: ...

    def head(self) -> tuple[int, str]: ...

    def records(self, since: datetime | date | None = None) -> Iterator[AuditRecord]: ...

    def export(self, since: datetime | date | None = None) -> Iterator[dict[str, Any]]: ...

    def verify(self, anchor: tuple[int, str] | None = None) -> VerifyResult: ...

    def close(self) -> None: ...


ROW_COLUMNS = (*_FIELDS, *_OPTIONAL_FIELDS, "prev_hash", "hash")
_INSERT = (f"INSERT INTO audit_records ({', '.join(ROW_COLUMNS)}) "
           f"VALUES ({', '.join('?' for _ in ROW_COLUMNS)})")


EntryWire = tuple[Any, ...]
"""An ``AuditEntry`` as plain values, what the writer process is sent: request_id, data_classes, rules,
action, config_hash, key_id, team, deployment, perimeter, region, and sent_to as (deployment, action,
perimeter, region) tuples."""


def entry_wire(entry: AuditEntry) -> EntryWire:
    return (entry.request_id, tuple(entry.data_classes), tuple(entry.rules), entry.action, entry.config_hash,
            entry.key_id, entry.team, entry.deployment, entry.perimeter, entry.region,
            tuple((r.deployment, r.action, r.perimeter, r.region) for r in entry.sent_to))


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"))  # as record_hash's json.dumps
Shape = tuple[str, str, str, str, str, str]
# Entries alike in all but request id (most of a gateway's are) share this, worked out once: the canonical
# JSON before the request id, between it and seq, and between seq and time; the stored JSON of the lists.
_SHAPES: dict[tuple[Any, ...], Shape] = {}


def _canonical(value: Any) -> str:
    """``value`` as it reads inside ``record_hash``'s canonical JSON."""
    if type(value) is str:
        return _quote(value)
    if type(value) is int:
        return str(value)
    return "null" if value is None else _CANONICAL.encode(value)


def _shape(entry: EntryWire) -> Shape:
    key = entry[1:]
    try:
        shape = _SHAPES.get(key)
    except TypeError:  # an unhashable item: worked out each time
        shape = None
    if shape is not None:
        return shape
    _, classes, rules, action, config_hash, key_id, team, deployment, perimeter, region, sent = entry
    lists = (sorted(classes), list(rules),
             [{"deployment": d, "action": a, "perimeter": p, "region": r} for d, a, p, r in sent])
    classes_json, rules_json, sent_json = (_CANONICAL.encode(v) for v in lists)
    c = _canonical
    shape = (f'{{"action":{c(action)},"config_hash":{c(config_hash)},"data_classes":{classes_json},'
             f'"deployment":{c(deployment)},"key_id":{c(key_id)},"perimeter":{c(perimeter)},'
             f'"region":{c(region)},"request_id":',
             f',"rules":{rules_json},"sent_to":{sent_json},"seq":',
             f',"team":{c(team)},"time":',
             *(json.dumps(v) for v in lists))
    if _plain(key):  # equal keys of str and None alone always make the same JSON (1 == True would not)
        if len(_SHAPES) >= 4096:
            _SHAPES.clear()
        _SHAPES[key] = shape
    return shape


def _plain(values: tuple[Any, ...]) -> bool:
    return all(v is None or type(v) is str or (type(v) is tuple and _plain(v)) for v in values)


def chain_rows(
    entries: Iterable[EntryWire], seq: int, prev_hash: str, clock: Callable[[], datetime]
) -> list[list[Any]]:
    """The rows (``ROW_COLUMNS`` order) of ``entries`` appended after record ``seq`` of hash ``prev_hash``.

    Each hash is ``record_hash``'s: the canonical JSON is put together in its sorted key order (tests
    hold the two to the same bytes), without a dict and a ``json.dumps`` per record.
    """
    rows: list[list[Any]] = []
    for entry in entries:
        seq += 1
        time = _timestamp(clock())
        before_id, before_seq, before_time, classes_text, rules_text, sent_text = _shape(entry)
        canonical = (f"{before_id}{_canonical(entry[0])}{before_seq}{_canonical(seq)}{before_time}"
                     f"{_canonical(time)}}}")
        digest = hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()
        _, _, _, action, config_hash, key_id, team, deployment, perimeter, region, _ = entry
        rows.append([seq, time, entry[0], key_id, team, classes_text, rules_text, action, deployment,
                     perimeter, region, config_hash, sent_text, prev_hash, digest])
        prev_hash = digest
    return rows


def chain_head(rows: Sequence[Sequence[Any]], seq: int, prev_hash: str) -> tuple[int, str]:
    """(seq, hash) of the newest of ``rows``; the head they were chained onto when there are none."""
    return (rows[-1][0], rows[-1][-1]) if rows else (seq, prev_hash)


def records_of(entries: Sequence[AuditEntry], rows: Sequence[Sequence[Any]]) -> list[AuditRecord]:
    """The records ``chain_rows`` made of ``entries``."""
    return [AuditRecord(seq=row[0], time=row[1], request_id=e.request_id, key_id=e.key_id, team=e.team,
                        data_classes=sorted(e.data_classes), rules=list(e.rules), action=e.action,
                        deployment=e.deployment, perimeter=e.perimeter, region=e.region,
                        config_hash=e.config_hash, prev_hash=row[13], hash=row[14],
                        sent_to=[r.to_dict() for r in e.sent_to])
            for e, row in zip(entries, rows, strict=True)]


def record_from_row(values: Mapping[str, Any]) -> AuditRecord:
    """A stored row (lists as JSON text) back into a record."""
    out = {k: values[k] for k in ROW_COLUMNS}
    out["data_classes"] = json.loads(out["data_classes"])
    out["rules"] = json.loads(out["rules"])
    out["sent_to"] = None if out["sent_to"] is None else json.loads(out["sent_to"])
    return AuditRecord(**out)


def verify_chain(
    records: Iterable[AuditRecord], head: tuple[int, str] | None, anchor: tuple[int, str] | None = None
) -> VerifyResult:
    """Walk ``records`` in seq order against ``head`` (read in the same snapshot); name the first bad one."""
    prev, expected_seq, checked = GENESIS, 1, 0
    anchored = anchor is None or anchor[0] == 0
    for record in records:
        if record.seq != expected_seq:
            return _bad(checked, record, f"expected record {expected_seq} here (records were removed)")
        if record.prev_hash != prev:
            return _bad(checked, record, "does not follow the record before it (one was removed or reordered)")
        fields = {k: getattr(record, k) for k in (*_FIELDS, *_OPTIONAL_FIELDS)}
        if record_hash(prev, fields) != record.hash:
            return _bad(checked, record, "contents do not match its hash (edited)")
        if anchor is not None and record.seq == anchor[0]:
            if record.hash != anchor[1]:
                return _bad(checked, record, "differs from the anchored head (chain rewritten)")
            anchored = True
        prev, expected_seq, checked = record.hash, expected_seq + 1, checked + 1
    if head is None:
        return VerifyResult(False, checked, checked + 1, None, "the head row is missing (removed from the file)")
    head_seq, head_hash = head
    if head_seq != checked or head_hash != prev:
        return VerifyResult(
            False, checked, checked + 1, None, f"records after {checked} were removed (head is {head_seq})"
        )
    if not anchored:
        return VerifyResult(False, checked, checked + 1, None, f"anchored record {anchor and anchor[0]} is missing")
    return VerifyResult(True, checked)


def _bad(checked: int, record: AuditRecord, problem: str) -> VerifyResult:
    return VerifyResult(False, checked, record.seq, record.request_id, f"record {record.seq}: {problem}")


class AuditLog:
    """The audit store in one SQLite file; safe to share between threads and between processes."""

    def __init__(
        self, path: str | Path, *, clock: Callable[[], datetime] = _utc_now, busy_timeout_s: float = 30.0
    ) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        # Writers in other processes hold the write lock for one batch at a time: wait for them.
        self._db = sqlite3.connect(str(path), timeout=busy_timeout_s, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        # synchronous stays FULL (SQLite's default): a committed audit batch survives a power cut too.
        # It costs the writer process an fsync per batch (about every 50 ms), not the serving process.
        self._migrate()

    def _migrate(self) -> None:
        with self._lock:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)"
            )
            done = {row[0] for row in self._db.execute("SELECT version FROM schema_migrations")}
            for version, script in enumerate(_MIGRATIONS, start=1):
                if version in done:
                    continue
                # Checked again under the write lock: another process may have applied it meanwhile.
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    applied = self._db.execute(
                        "SELECT 1 FROM schema_migrations WHERE version = ?", (version,)
                    ).fetchone()
                    if applied is None:
                        for statement in _statements(script):
                            self._db.execute(statement)
                        applied_at = _timestamp(self._clock())
                        self._db.execute("INSERT INTO schema_migrations VALUES (?, ?)", (version, applied_at))
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def append(self, entry: AuditEntry) -> AuditRecord:
        """Add one record at the end of the chain (atomically, even across processes)."""
        return self.append_many([entry])[0]

    def append_many(self, entries: Sequence[AuditEntry]) -> list[AuditRecord]:
        """Add records in order, in one transaction: the gateway writes its audit trail in batches."""
        return records_of(entries, self.append_wire([entry_wire(e) for e in entries]))

    def append_wire(self, entries: Sequence[EntryWire]) -> list[list[Any]]:
        """``append_many`` of entries in wire form (what the writer process receives); the rows written.

        ``BEGIN IMMEDIATE`` takes the file's write lock before the head is read, so a writer in
        another process can never chain onto the same head.
        """
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                head = self._db.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
                if head is None:
                    raise AuditLogDamaged(
                        "the audit log's head row is missing (the file was altered); "
                        "run `interlock audit verify`"
                    )
                seq, prev = head["seq"], head["hash"]
                rows = chain_rows(entries, seq, prev, self._clock)
                self._db.executemany(_INSERT, rows)
                self._db.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", chain_head(rows, seq, prev))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return rows

    def head(self) -> tuple[int, str]:
        """(sequence number, hash) of the newest record; store it elsewhere to anchor the chain."""
        with self._lock:
            row = self._db.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
        if row is None:
            raise AuditLogDamaged("the audit log's head row is missing (the file was altered)")
        return int(row["seq"]), str(row["hash"])

    def records(self, since: datetime | date | None = None) -> Iterator[AuditRecord]:
        """Records in chain order, optionally only those at or after ``since`` (UTC)."""
        query = "SELECT * FROM audit_records ORDER BY seq"
        args: tuple[str, ...] = ()
        if since is not None:
            query, args = "SELECT * FROM audit_records WHERE time >= ? ORDER BY seq", (_timestamp(since),)
        with self._lock:
            rows = self._db.execute(query, args).fetchall()
        for row in rows:
            yield record_from_row(row)

    def export(self, since: datetime | date | None = None) -> Iterator[dict[str, Any]]:
        """Records as JSON-ready dicts (one JSONL line each), for the compliance team."""
        for record in self.records(since):
            yield record.to_dict()

    def verify(self, anchor: tuple[int, str] | None = None) -> VerifyResult:
        """Walk the chain; the first edited, removed or reordered record is named in the result."""
        with self._lock:
            self._db.execute("BEGIN")  # one snapshot for records and head, however busy the writers are
            try:
                rows = self._db.execute("SELECT * FROM audit_records ORDER BY seq").fetchall()
                head = self._db.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
            finally:
                self._db.execute("COMMIT")
        stored = None if head is None else (int(head["seq"]), str(head["hash"]))
        return verify_chain((record_from_row(r) for r in rows), stored, anchor)


def audit_location(config: GatewayConfig, environ: Mapping[str, str] = os.environ) -> str | Path:
    """Where the gateway keeps its audit log: ``audit_log`` (a file or a ``postgresql://`` URL); else
    the ledger's PostgreSQL database when it has one, so replicas share one chain; else ``audit.db``
    beside the default SQLite database. A file's directory is created."""
    configured = config.audit_log
    if not configured:
        database = config.accounting.database_url or environ.get(ENV_DB_URL)
        if database and is_postgres_url(database):
            return database
    if configured and is_postgres_url(configured):
        return configured
    path = Path(configured).expanduser() if configured else default_sqlite_path().with_name("audit.db")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def open_audit_log(location: str | Path) -> AuditStore:
    """The audit log at ``location``: a SQLite file path, or a ``postgresql://`` URL."""
    if isinstance(location, str) and is_postgres_url(location):
        from interlock.compliance.audit_postgres import PostgresAuditLog

        return PostgresAuditLog(location)
    return AuditLog(location)


def describe_location(location: str | Path) -> str:
    """A location fit to print or log: a URL loses its password."""
    if isinstance(location, Path) or not is_postgres_url(location):
        return str(location)
    parts = urlsplit(location)
    if parts.password is None:
        return location
    user = f"{parts.username}:***@" if parts.username else ":***@"
    host = parts.hostname or ""
    netloc = user + host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _statements(script: str) -> list[str]:
    """The SQL statements of a migration script, in order (a trigger body holds semicolons)."""
    out: list[str] = []
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                out.append(pending.strip())
            pending = ""
    return out
