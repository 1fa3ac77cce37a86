"""Which gateway processes write to this database, so a process can tell that it shares its ledger.

Each process keeps one row fresh (a heartbeat); a row not refreshed for ``stale_after_s`` belongs
to a process that is gone. A row says where the process keeps its budget counters (``process``, the
Redis server it shares, or ``database`` for counters in this very database), which is what decides
whether budgets hold across the processes.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from interlock.storage.database import Database, as_datetime

PROCESS_BUDGETS = "process"
# Counters in this database's tables (workers of one host without Redis): shared by all who write here.
DATABASE_BUDGETS = "database"

# Containers often share a hostname and run as pid 1: this tells their processes apart, and is the
# same for every registry one process builds (a config reload is not another process).
_PROCESS_TOKEN = uuid.uuid4().hex[:8]

_UPSERT = """INSERT INTO gateway_instances (instance_id, lease, host, pid, budgets, started_at, heartbeat_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (instance_id) DO UPDATE SET lease = excluded.lease, budgets = excluded.budgets,
heartbeat_at = excluded.heartbeat_at"""


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{_PROCESS_TOKEN}"


def budget_scope(redis_url: str | None) -> str:
    """Where budget counters live, without credentials: ``process`` or ``redis://host:port/db``."""
    if not redis_url:
        return PROCESS_BUDGETS
    parts = urlsplit(redis_url)
    return f"{parts.scheme}://{parts.hostname or ''}:{parts.port or 6379}{parts.path or '/0'}"


@dataclass(frozen=True, slots=True)
class Instance:
    instance_id: str
    host: str
    pid: int
    budgets: str
    heartbeat_at: datetime


class InstanceRegistry:
    """This process's row in ``gateway_instances``; the methods block (call them in a worker thread)."""

    def __init__(
        self,
        db: Database,
        budgets: str,
        *,
        instance_id: str | None = None,
        stale_after_s: float = 45.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.budgets = budgets
        self.instance_id = instance_id or this_process()
        # A config reload builds a second registry in the same process: the lease keeps the one
        # being closed from deleting the row its successor now keeps fresh.
        self.lease = uuid.uuid4().hex
        self.stale_after = timedelta(seconds=stale_after_s)
        self._clock = clock

    def beat(self) -> None:
        now = self._clock()
        with self.db.transaction() as tx:
            tx.execute(_UPSERT, (self.instance_id, self.lease, socket.gethostname(), os.getpid(), self.budgets,
                                 now, now))

    def peers(self) -> list[Instance]:
        """Other live processes on this database."""
        since = self._clock() - self.stale_after
        rows = self.db.fetchall(
            "SELECT instance_id, host, pid, budgets, heartbeat_at FROM gateway_instances "
            "WHERE instance_id <> ? AND heartbeat_at >= ? ORDER BY instance_id",
            (self.instance_id, since),
        )
        out = []
        for row in rows:
            beat = as_datetime(row[4])
            assert beat is not None  # NOT NULL column
            out.append(Instance(row[0], row[1], int(row[2]), row[3], beat))
        return out

    def leave(self) -> None:
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM gateway_instances WHERE instance_id = ? AND lease = ?",
                       (self.instance_id, self.lease))


def unshared_budget_warning(budgets: str, peers: Sequence[Instance]) -> str | None:
    """What to tell the operator when processes share this ledger but not their budget counters."""
    apart = [p for p in peers if budgets == PROCESS_BUDGETS or p.budgets != budgets]
    if not apart:
        return None
    names = ", ".join(f"{p.host} pid {p.pid}" for p in apart[:5]) + (" ..." if len(apart) > 5 else "")
    return (
        f"{len(apart)} other gateway process(es) ({names}) write to this ledger, but budgets are not shared "
        f"with them: each process enforces a key's or team's budget alone, so together they can spend up "
        f"to {len(apart) + 1}x it. Set the same accounting.redis_url on every process."
    )
