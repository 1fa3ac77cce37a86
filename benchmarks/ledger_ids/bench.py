"""What a ledger batch costs as the ledger grows, with random or time-ordered request ids.

The ledger indexes ``request_id``. A random id (UUID4) lands on a random page of that index, so a
batch of 200 records dirties up to 200 index pages once the index outgrows the batch, and every
commit writes them all to the WAL; a time-ordered id (UUID7, ``interlock/ids.py``) lands on the
index's last page. This grows one ledger through the product's own ``SqlLedgerStore`` on SQLite and,
at each size, appends batches of each kind alternately, timing CPU (``process_time``) and wall time.

Run: ``python benchmarks/ledger_ids/bench.py`` (about a minute; ``--rows 500000`` for a bigger ledger).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from interlock.accounting.ledger import SqlLedgerStore
from interlock.accounting.records import UsageRecord
from interlock.ids import new_id
from interlock.storage.database import open_database

KINDS: dict[str, Callable[[], str]] = {"random (uuid4)": lambda: uuid.uuid4().hex, "time-ordered (uuid7)": new_id}


def batch(make_id: Callable[[], str], size: int) -> list[UsageRecord]:
    return [
        UsageRecord(model="bench-model", request_id=make_id(), key_id=f"key_{i % 7}", team=f"team-{i % 3}",
                    deployment="bench-upstream", prompt_tokens=30, completion_tokens=16,
                    cost_usd=Decimal("0.0000062"), baseline_cost_usd=Decimal("0.0004"), latency_ms=3,
                    config_hash="c0ffee")
        for i in range(size)
    ]


def timed(store: SqlLedgerStore, make_id: Callable[[], str], size: int, batches: int) -> tuple[float, float]:
    """CPU and wall microseconds per record over ``batches`` appends (records built beforehand)."""
    ready = [batch(make_id, size) for _ in range(batches)]
    cpu, wall = time.process_time(), time.perf_counter()
    for records in ready:
        store.append(records)
    n = size * batches
    return 1e6 * (time.process_time() - cpu) / n, 1e6 * (time.perf_counter() - wall) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000, help="grow the ledger to this many rows")
    parser.add_argument("--steps", type=int, default=3, help="measure at this many sizes on the way")
    parser.add_argument("--batch", type=int, default=200, help="records per transaction (the gateway's batch_size)")
    parser.add_argument("--batches", type=int, default=10, help="measured batches per kind, per size and pass")
    parser.add_argument("--passes", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = SqlLedgerStore(open_database(str(Path(tmp) / "ledger.db")))
        filler = 5000
        print(f"{'ledger rows':>12}  {'ids':<22}{'CPU us/record':>14}{'wall us/record':>16}")
        for step in range(1, args.steps + 1):
            target = args.rows * step // args.steps
            while _count(store) < target:  # grown with random ids: the index as a random-id ledger has it
                store.append(batch(lambda: uuid.uuid4().hex, min(filler, target - _count(store))))
            results: dict[str, list[tuple[float, float]]] = {k: [] for k in KINDS}
            for _ in range(args.passes):
                for kind, make_id in KINDS.items():
                    results[kind].append(timed(store, make_id, args.batch, args.batches))
            for kind, runs in results.items():
                cpu, wall = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
                print(f"{target:>12,}  {kind:<22}{cpu:>14.1f}{wall:>16.1f}", flush=True)


def _count(store: SqlLedgerStore) -> int:
    return int(store.db.fetchall("SELECT COUNT(*) FROM usage_records")[0][0])


if __name__ == "__main__":
    main()
