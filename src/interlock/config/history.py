"""Config history: every applied config with its canonical hash, time, text and a diff to the one before."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import yaml

from interlock.config.load import LoadedConfig
from interlock.storage.database import Database, Row, as_datetime
from interlock.versions.migrations import ensure_versions_schema

_COLUMNS = "id, applied_at, config_hash, previous_hash, source, reason, config_text, diff"


class HistoryLookupError(LookupError):
    """No stored config matches a hash prefix, or more than one does."""


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    id: int
    applied_at: datetime
    hash: str
    previous_hash: str | None
    source: str
    reason: str
    text: str
    diff: str

    @property
    def diff_stat(self) -> tuple[int, int]:
        """Lines added and removed by this config."""
        lines = self.diff.splitlines()
        added = sum(1 for x in lines if x.startswith("+") and not x.startswith("+++"))
        removed = sum(1 for x in lines if x.startswith("-") and not x.startswith("---"))
        return added, removed


def config_text(loaded: LoadedConfig) -> str:
    """The YAML to store for a config that did not come from a file (the embedded default)."""
    return str(yaml.safe_dump(loaded.config.model_dump(mode="json", exclude_defaults=True), sort_keys=False))


def unified_diff(old: str, new: str, old_name: str, new_name: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), old_name, new_name
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _entry(row: Row) -> HistoryEntry:
    applied_at = as_datetime(row[1])
    assert applied_at is not None  # the column is NOT NULL
    return HistoryEntry(row[0], applied_at, row[2], row[3], row[4], row[5], row[6], row[7])


class ConfigHistory:
    def __init__(self, db: Database, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.db = db
        self._now = now
        ensure_versions_schema(db)

    def record(self, loaded: LoadedConfig, text: str | None = None, reason: str = "apply") -> HistoryEntry:
        """Store ``loaded`` as the newest applied config (``text``: the file as read, else a YAML dump).

        Re-applying the newest config is not a change and returns its entry unchanged.
        """
        latest = self.latest()
        if latest is not None and latest.hash == loaded.hash:
            return latest
        body = text if text is not None else config_text(loaded)
        old_text, old_name = (latest.text, f"config {latest.hash}") if latest else ("", "(none)")
        diff = unified_diff(old_text, body, old_name, f"config {loaded.hash}")
        values = (
            self._now(),
            loaded.hash,
            latest.hash if latest else None,
            loaded.source,
            reason,
            body,
            diff,
        )
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO config_history"
                " (applied_at, config_hash, previous_hash, source, reason, config_text, diff)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                values,
            )
        entry = self.latest()
        assert entry is not None
        return entry

    def latest(self) -> HistoryEntry | None:
        rows = self.list(limit=1)
        return rows[0] if rows else None

    def newest_notice(self) -> tuple[int, str] | None:
        """``(id, config hash)`` of the newest row, cheaply: what peers poll to learn of a change."""
        rows = self.db.fetchall("SELECT id, config_hash FROM config_history ORDER BY id DESC LIMIT 1")
        return (int(rows[0][0]), str(rows[0][1])) if rows else None

    def list(self, limit: int | None = 50) -> list[HistoryEntry]:
        """Newest first."""
        sql = f"SELECT {_COLUMNS} FROM config_history ORDER BY id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_entry(row) for row in self.db.fetchall(sql)]

    def get(self, hash_prefix: str) -> HistoryEntry:
        """The newest application of the config whose hash starts with ``hash_prefix``."""
        prefix = hash_prefix.strip().lower()
        if not prefix or any(c not in "0123456789abcdef" for c in prefix):
            raise HistoryLookupError(f"{hash_prefix!r} is not a config hash (hex digits)")
        rows = self.db.fetchall(
            f"SELECT {_COLUMNS} FROM config_history WHERE config_hash LIKE ? ORDER BY id DESC",
            (prefix + "%",),
        )
        hashes = sorted({row[2] for row in rows})
        if not hashes:
            raise HistoryLookupError(f"no applied config has a hash starting with {prefix!r}")
        if len(hashes) > 1:
            raise HistoryLookupError(
                f"{prefix!r} matches several configs ({', '.join(hashes)}); give more digits"
            )
        return _entry(rows[0])
