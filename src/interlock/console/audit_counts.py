"""Counts of audit records per hour, data classes and action, kept up to date incrementally.

The audit log is append-only and its sequence numbers only grow, so each read adds just the
records after the last one counted (the first read counts them all, once per process: seconds for
a million records, so the console runs it in the background). The log
is opened read-only with its own connection; its schema belongs to ``compliance/audit.py``.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections import Counter
from pathlib import Path


class AuditCounts:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._path: Path | None = None
        self._seq = 0
        self._counts: Counter[tuple[str, str, str]] = Counter()  # (hour, data classes JSON, action)
        self._primed = False

    def counted(self, path: Path) -> bool:
        """Whether ``path`` has been counted once (later refreshes only add the new records)."""
        return self._path == path and self._primed

    def refresh(self, path: Path) -> int:
        """Count the records added since the last call; returns the newest sequence number."""
        with self._lock:
            if path != self._path:  # another file (a reload changed audit_log): start over
                self._path, self._seq, self._counts, self._primed = path, 0, Counter(), False
            with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
                rows = conn.execute(
                    "SELECT substr(time, 1, 13), data_classes, action, COUNT(*), MAX(seq) FROM audit_records "
                    "WHERE seq > ? GROUP BY 1, 2, 3",
                    (self._seq,),
                ).fetchall()
            for hour, classes, action, count, newest in rows:
                self._counts[(hour, classes, action)] += count
                self._seq = max(self._seq, newest)
            self._primed = True
            return self._seq

    def since(self, hour: str) -> tuple[Counter[str], dict[str, Counter[str]]]:
        """Requests per action, and per data class and action, from ``hour`` ('YYYY-MM-DDTHH') on."""
        actions: Counter[str] = Counter()
        per_class: dict[str, Counter[str]] = {}
        with self._lock:
            items = [(k, n) for k, n in self._counts.items() if k[0] >= hour]
        for (_, classes, action), count in items:
            actions[action] += count
            for name in json.loads(classes) or ["none"]:
                per_class.setdefault(name, Counter())[action] += count
        return actions, per_class
