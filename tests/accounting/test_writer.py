"""The batched ledger writer: off the request path, batched, and losing nothing at shutdown."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from interlock.storage.database import Database, open_database
from interlock.accounting.ledger import SqlLedgerStore
from interlock.accounting.records import UsageRecord, WireRecord
from interlock.accounting.writer import LedgerClosed, LedgerWriteError, LedgerWriter

SRC = Path(__file__).resolve().parents[2] / "src"


class CountingStore(SqlLedgerStore):
    """A real store that records the size of each batch and can be told to fail."""

    def __init__(self, db: Database, failures: int = 0) -> None:
        super().__init__(db)
        self.batches: list[int] = []
        self.failures = failures

    def append_wire(self, rows: Sequence[WireRecord]) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("database is down")
        super().append_wire(rows)
        self.batches.append(len(rows))


def records(n: int, start: int = 0) -> list[UsageRecord]:
    return [UsageRecord(model="m", request_id=f"req-{i}") for i in range(start, start + n)]


async def test_a_full_batch_is_written_without_waiting_for_the_interval(database: Database) -> None:
    store = CountingStore(database)
    writer = LedgerWriter(store, batch_size=10, flush_interval_s=60)
    for r in records(25):
        writer.submit(r)
    for _ in range(200):
        if store.batches:
            break
        await asyncio.sleep(0.01)
    assert store.batches[0] == 10
    await writer.aclose()
    assert store.count() == 25 and sum(store.batches) == 25
    assert max(store.batches) == 10


async def test_a_partial_batch_is_written_after_the_interval(database: Database) -> None:
    store = CountingStore(database)
    writer = LedgerWriter(store, batch_size=100, flush_interval_s=0.05)
    for r in records(3):
        writer.submit(r)
    for _ in range(200):
        if store.count() == 3:
            break
        await asyncio.sleep(0.01)
    assert store.batches == [3] and writer.pending == 0
    await writer.aclose()


async def test_close_writes_everything_and_refuses_more(database: Database) -> None:
    store = CountingStore(database)
    writer = LedgerWriter(store, batch_size=1000, flush_interval_s=60)
    for r in records(1234):
        writer.submit(r)
    await writer.aclose()
    assert store.count() == 1234 and writer.written == 1234
    with pytest.raises(LedgerClosed):
        writer.submit(records(1)[0])
    await writer.aclose()  # twice is fine


async def test_records_wait_out_a_database_outage_without_loss_or_duplicates(tmp_path: Path) -> None:
    store = CountingStore(open_database(str(tmp_path / "l.db")), failures=3)
    writer = LedgerWriter(store, batch_size=5, flush_interval_s=0.01, max_retry_delay_s=0.05)
    for r in records(12):
        writer.submit(r)
    await writer.aclose()
    assert store.count() == 12
    ids = [row[0] for row in store.db.fetchall("SELECT request_id FROM usage_records")]
    assert sorted(ids) == sorted(f"req-{i}" for i in range(12))
    store.close()


async def test_close_reports_records_it_could_not_write(tmp_path: Path) -> None:
    store = CountingStore(open_database(str(tmp_path / "l.db")), failures=100)
    writer = LedgerWriter(store, batch_size=5, flush_interval_s=60, close_attempts=2)
    for r in records(7):
        writer.submit(r)
    with pytest.raises(LedgerWriteError, match="7 usage records were not written"):
        await writer.aclose()
    store.close()


CHILD = textwrap.dedent("""
    import asyncio, signal, sys
    from interlock.storage.database import open_database
    from interlock.accounting.ledger import SqlLedgerStore
    from interlock.accounting.records import UsageRecord, WireRecord
    from interlock.accounting.writer import LedgerWriter

    async def main(path):
        writer = LedgerWriter(SqlLedgerStore(open_database(path)), batch_size=50, flush_interval_s=0.2)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        submitted = 0
        while not stop.is_set():
            for _ in range(20):
                writer.submit(UsageRecord(model="m", request_id=f"r{submitted}"))
                submitted += 1
            if submitted == 2000:
                print("loaded", flush=True)
            await asyncio.sleep(0)
        await writer.aclose()  # what the server's shutdown does on SIGTERM
        print(submitted, flush=True)

    asyncio.run(main(sys.argv[1]))
""")


def test_sigterm_under_load_loses_no_records(tmp_path: Path) -> None:
    path = str(tmp_path / "sigterm.db")
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, path], stdout=subprocess.PIPE, text=True, env=env)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "loaded"
    time.sleep(0.3)
    child.send_signal(signal.SIGTERM)
    out, _ = child.communicate(timeout=60)
    assert child.returncode == 0
    submitted = int(out.strip())
    ledger = SqlLedgerStore(open_database(path))
    assert submitted > 2000
    assert ledger.count() == submitted
    assert ledger.db.fetchall("SELECT COUNT(DISTINCT request_id) FROM usage_records")[0][0] == submitted
    ledger.close()
