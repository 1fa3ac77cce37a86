"""Writes usage records off the request path, in batches, and flushes them all on close.

``submit`` only appends to an in-memory buffer, of records in wire form (``records.record_wire``:
the plain tuples the writer process is sent; ``submit_wire`` takes one already in that form). A
background task writes a batch when ``batch_size`` records are waiting or every
``flush_interval_s``, in a worker thread so the event loop never waits on the database. If the
database is down, records stay buffered and the write is retried with backoff; ``aclose``
(called at shutdown, e.g. on SIGTERM) writes whatever is left before returning.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from types import TracebackType

from interlock.accounting.ledger import LedgerSink
from interlock.accounting.records import UsageRecord, WireRecord, record_wire

log = logging.getLogger("interlock.ledger")


class LedgerWriteError(RuntimeError):
    """Records could not be written before the writer closed."""


class LedgerClosed(RuntimeError):
    """A record was submitted after ``aclose``."""


class LedgerWriter:
    def __init__(
        self,
        store: LedgerSink,
        *,
        batch_size: int = 200,
        flush_interval_s: float = 1.0,
        max_pending: int = 200_000,
        max_retry_delay_s: float = 30.0,
        close_attempts: int = 5,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.store = store
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.max_pending = max_pending
        self.max_retry_delay_s = max_retry_delay_s
        self.close_attempts = close_attempts
        self.written = 0
        self.dropped = 0
        self._buffer: list[WireRecord] = []
        self._wake = asyncio.Event()
        self._flush_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._failures = 0

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def submit(self, record: UsageRecord) -> None:
        """Queue one record; never blocks. Call from the event loop's thread."""
        self.submit_wire(record_wire(record))

    def submit_wire(self, row: WireRecord) -> None:
        """Queue one record in wire form (``record_wire``'s tuple); never blocks. Call from the event
        loop's thread."""
        if self._closed:
            raise LedgerClosed("the ledger writer is closed")
        if len(self._buffer) >= self.max_pending:
            # The database has been unreachable for a long time; bound memory, loudly.
            self.dropped += 1
            log.error("ledger buffer full (%d records): dropped a record", self.max_pending)
            return
        self._buffer.append(row)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="ledger-writer")
        if len(self._buffer) >= self.batch_size:
            self._wake.set()

    async def flush(self) -> None:
        """Write everything buffered now; raises if the store fails."""
        async with self._flush_lock:
            while self._buffer:
                await asyncio.to_thread(self._write_batch, self._buffer[: self.batch_size])

    def _write_batch(self, batch: list[WireRecord]) -> None:
        # Runs in a worker thread. Bookkeeping happens here, right after the commit, so a
        # cancelled awaiter can never cause a committed batch to be written twice.
        # Only the flusher removes records, always from the front; ``submit`` appends.
        self.store.append_wire(batch)
        del self._buffer[: len(batch)]
        self.written += len(batch)

    async def aclose(self) -> None:
        """Stop the background task and write every buffered record; safe to call twice."""
        self._closed = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        await self._final_flush()

    async def _final_flush(self) -> None:
        error: Exception | None = None
        for attempt in range(self.close_attempts):
            try:
                await self.flush()
                return
            except Exception as exc:  # the store's own errors vary by backend
                error = exc
                log.warning("ledger flush at close failed (attempt %d): %s", attempt + 1, exc)
                await asyncio.sleep(min(0.2 * 2**attempt, self.max_retry_delay_s))
        raise LedgerWriteError(f"{self.pending} usage records were not written: {error}") from error

    async def _run(self) -> None:
        delay = self.flush_interval_s
        while not self._closed:
            await self._sleep(delay)
            if self._closed:
                return  # aclose does the last flush, with its own retries
            try:
                await self.flush()
                self._failures, delay = 0, self.flush_interval_s
            except Exception as exc:  # keep the records and retry; never kill the task
                self._failures += 1
                delay = min(self.flush_interval_s * 2**self._failures, self.max_retry_delay_s)
                log.error("ledger write failed (%d pending, retry in %.1fs): %s", self.pending, delay, exc)

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but wake early for a full batch or for close."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        self._wake.clear()

    async def __aenter__(self) -> LedgerWriter:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
