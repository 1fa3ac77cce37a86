"""The resumable-run cache: completions and expensive scores in SQLite, so a rerun does only what is missing.

A completion is keyed by (item id, model, model version, prompt hash); the version is the one the
gateway reported, so lookups take the newest row for (item, model, prompt) and the runner decides
whether its version is still current. Scores of expensive scorers are keyed by the completion
plus a hash of the scorer, its options and ``expected``. Schema changes are numbered migrations.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from interlock.evaluation.client import Completion
from interlock.evaluation.scorers.base import Score

MIGRATIONS: list[str] = [
    """
    CREATE TABLE completions (
        item_id TEXT NOT NULL,
        model TEXT NOT NULL,
        model_version TEXT NOT NULL,
        prompt_hash TEXT NOT NULL,
        output TEXT NOT NULL,
        finish_reason TEXT,
        latency_ms REAL NOT NULL,
        prompt_tokens INTEGER,
        completion_tokens INTEGER,
        cost_usd REAL,
        created_at REAL NOT NULL,
        PRIMARY KEY (item_id, model, model_version, prompt_hash)
    );
    CREATE INDEX completions_lookup ON completions (item_id, model, prompt_hash, created_at);
    CREATE TABLE scores (
        item_id TEXT NOT NULL,
        model TEXT NOT NULL,
        model_version TEXT NOT NULL,
        prompt_hash TEXT NOT NULL,
        scoring_key TEXT NOT NULL,
        value REAL NOT NULL,
        detail TEXT NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (item_id, model, model_version, prompt_hash, scoring_key)
    );
    """,
]


class ResultCache:
    """One SQLite file (or memory when ``path`` is None); used from the runner's event loop thread."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.db = sqlite3.connect(":memory:" if path is None else str(path), isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self._migrate()

    def _migrate(self) -> None:
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at REAL)"
        )
        applied = {row[0] for row in self.db.execute("SELECT version FROM schema_migrations")}
        for version, script in enumerate(MIGRATIONS, start=1):
            if version in applied:
                continue
            self.db.executescript(
                f"BEGIN; {script}; INSERT INTO schema_migrations VALUES ({version}, {time.time()}); COMMIT;"
            )

    def close(self) -> None:
        self.db.close()

    def get_completion(self, item_id: str, model: str, prompt_hash: str) -> Completion | None:
        """The newest cached completion for this item, model and prompt, whatever its version."""
        row = self.db.execute(
            "SELECT output, model_version, prompt_tokens, completion_tokens, cost_usd, latency_ms,"
            " finish_reason FROM completions WHERE item_id = ? AND model = ? AND prompt_hash = ?"
            " ORDER BY created_at DESC LIMIT 1",
            (item_id, model, prompt_hash),
        ).fetchone()
        if row is None:
            return None
        return Completion(
            text=row[0],
            model_version=row[1],
            prompt_tokens=row[2],
            completion_tokens=row[3],
            cost_usd=row[4],
            latency_ms=row[5],
            finish_reason=row[6],
        )

    def put_completion(self, item_id: str, model: str, prompt_hash: str, completion: Completion) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO completions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                item_id,
                model,
                completion.model_version,
                prompt_hash,
                completion.text,
                completion.finish_reason,
                completion.latency_ms,
                completion.prompt_tokens,
                completion.completion_tokens,
                completion.cost_usd,
                time.time(),
            ),
        )

    def get_score(
        self, item_id: str, model: str, model_version: str, prompt_hash: str, scoring_key: str
    ) -> Score | None:
        row = self.db.execute(
            "SELECT value, detail FROM scores WHERE item_id = ? AND model = ? AND model_version = ?"
            " AND prompt_hash = ? AND scoring_key = ?",
            (item_id, model, model_version, prompt_hash, scoring_key),
        ).fetchone()
        return Score(row[0], row[1]) if row else None

    def put_score(
        self, item_id: str, model: str, model_version: str, prompt_hash: str, scoring_key: str, score: Score
    ) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO scores VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (item_id, model, model_version, prompt_hash, scoring_key, score.value, score.detail, time.time()),
        )

    def count_completions(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM completions").fetchone()[0])
