"""Making sure the hourly rollup covers the records written before it existed, once per database.

The migration that adds ``usage_hourly`` marks where it starts; the older records are rolled up in
the background the first time the console reads the ledger (tens of seconds for a million records
on SQLite, once). Until that ends, pages say that older records are not counted yet.
"""

from __future__ import annotations

import asyncio
import logging

from interlock.storage.database import Database
from interlock.accounting.ledger import SqlLedgerStore

log = logging.getLogger("interlock.console")


class RollupBackfill:
    def __init__(self) -> None:
        self._done: set[int] = set()
        self._running: dict[int, asyncio.Task[None]] = {}

    async def ensure(self, db: Database) -> bool:
        """True when the rollup covers every record; otherwise the backfill is started (once)."""
        key = id(db)
        if key in self._done:
            return True
        if key not in self._running:
            store = SqlLedgerStore(db)
            if await asyncio.to_thread(store.hourly_backfilled):
                self._done.add(key)
                return True
            self._running[key] = asyncio.get_running_loop().create_task(self._backfill(key, store))
        return False

    async def _backfill(self, key: int, store: SqlLedgerStore) -> None:
        try:
            await asyncio.to_thread(store.backfill_hourly)
            self._done.add(key)
        except Exception as exc:  # the database's own errors vary by backend; a later page load retries
            log.warning("rolling up older ledger records failed: %s", type(exc).__name__)
        finally:
            del self._running[key]
