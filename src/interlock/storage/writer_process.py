"""A child process that does the gateway's database writes: ledger batches and audit batches; it
also writes the request log's lines (``observability/offloaded_lines.py``).

The SQL, the audit chain's hashing and the ledger's hourly roll-ups then run outside the
process that serves requests, so they never hold its GIL against the event loop. The gateway
keeps its own batching (``accounting/writer.py`` for the ledger, the audit thread in
``compliance/gate.py``); their worker threads hand each batch over a pipe and wait for the
child's answer, which releases the GIL while they wait. A failed write comes back as an
exception, so the ledger keeps its records and retries as before. A child that died is started
again on the next batch.

Each side opens its own stores from a picklable zero-argument factory (a module-level function
or a ``functools.partial`` of one). Batches cross the pipe in wire form, tuples of plain values
(``records.record_wire``, ``audit.entry_wire``): a dataclass of ``datetime`` and ``Decimal`` costs
several times more to pickle on one side and unpickle on the other.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import multiprocessing.util  # its exit handler stops daemon children: imported first, it runs after ours
import threading
import weakref
from collections.abc import Callable, Sequence
from functools import partial
from multiprocessing.connection import Connection
from typing import Any, Protocol

from interlock.accounting.records import record_wire
from interlock.compliance.audit import entry_wire
from interlock.observability.offloaded_lines import RequestLines, StderrLines

log = logging.getLogger("interlock.writer")

Opener = Callable[[], Any]


def open_ledger(database_url: str | None) -> Any:
    """The ledger store on ``database_url`` (None: the default SQLite file), opened in the child."""
    from interlock.accounting.ledger import SqlLedgerStore
    from interlock.storage.database import open_database

    return SqlLedgerStore(open_database(database_url))


class WriteFailed(RuntimeError):
    """The writer process could not write a batch (its error's type and message, no record content)."""


class _Ledger(Protocol):
    def append_wire(self, rows: Sequence[Any]) -> None: ...


class _Audit(Protocol):
    def append_wire(self, entries: Sequence[Any]) -> Any: ...


def _serve(conn: Connection, open_ledger: Opener | None, open_audit: Opener | None) -> None:
    """The child's loop: one request, one answer; ``None`` ends it."""
    ledger: _Ledger | None = None
    audit: _Audit | None = None
    lines: StderrLines | None = None
    while True:
        try:
            message = conn.recv()
        except EOFError:
            if lines is not None:
                lines.close()
            return  # the gateway is gone
        if message is None:
            if lines is not None:
                lines.close()  # every line it was sent is written before the answer
            _answer(conn, (True, ""))
            return
        kind, batch = message
        answer: tuple[bool, str] = (True, "")
        try:
            if kind == "ledger":
                if ledger is None:
                    assert open_ledger is not None, "no ledger was configured for this writer"
                    ledger = open_ledger()
                ledger.append_wire(batch)
            elif kind == "lines":  # request log lines: to this process's stderr, the gateway's own
                if lines is None:
                    lines = StderrLines()
                lines.put(batch)
            elif kind == "audit":
                if audit is None:
                    assert open_audit is not None, "no audit log was configured for this writer"
                    audit = open_audit()
                audit.append_wire(batch)
            else:
                raise ValueError(f"unknown write kind {kind!r}")
        except Exception as exc:  # reported to the gateway, which retries or logs it
            answer = (False, f"{type(exc).__name__}: {exc}")
        if not _answer(conn, answer):
            return


def _answer(conn: Connection, answer: tuple[bool, str]) -> bool:
    """Send the answer; False when the gateway has gone (its end of the pipe is closed)."""
    try:
        conn.send(answer)
    except OSError:  # BrokenPipeError: the gateway exited while this batch was written
        return False
    return True


class WriterProcess:
    """Owns the child; ``ledger`` and ``audit`` are the stores the gateway's writer threads call."""

    def __init__(self, open_ledger: Opener | None, open_audit: Opener | None) -> None:
        self._openers = (open_ledger, open_audit)
        self._context = multiprocessing.get_context("spawn")  # no fork of a process running threads
        self._lock = threading.Lock()
        self._conn: Connection | None = None
        self._process: Any = None
        self._closed = False
        self.restarts = 0
        self._start()
        self.ledger = _LedgerProxy(self)
        self.audit = _AuditProxy(self)
        self.lines = RequestLines(partial(self.write, "lines"))
        _LIVE.add(self)

    def _start(self) -> None:
        parent, child = self._context.Pipe()
        process = self._context.Process(target=_serve, args=(child, *self._openers), name="interlock-writer",
                                        daemon=True)
        process.start()
        child.close()
        self._conn, self._process = parent, process

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def write(self, kind: str, batch: Sequence[Any]) -> None:
        """Hand ``batch`` to the child and wait until it is committed. Call from a worker thread."""
        with self._lock:
            if self._closed:
                raise WriteFailed("the writer process is closed")
            for attempt in (1, 2):
                assert self._conn is not None
                try:
                    self._conn.send((kind, list(batch)))
                    ok, detail = self._conn.recv()
                    break
                except (EOFError, OSError) as exc:
                    if attempt == 2:
                        raise WriteFailed(f"the writer process is not answering ({type(exc).__name__})") from exc
                    log.warning("the writer process died (exit code %s); starting it again",
                                self._process.exitcode if self._process is not None else None)
                    self._conn.close()
                    self.restarts += 1
                    self._start()
        if not ok:
            raise WriteFailed(detail)

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop the child once it has answered every batch sent (callers flush first; the request
        lines waiting here are written first)."""
        self.lines.close()
        with self._lock:
            if self._closed:
                return
            self._closed = True
            conn, process = self._conn, self._process
            try:
                if conn is not None:
                    conn.send(None)
                    if conn.poll(timeout_s):
                        conn.recv()
            except (EOFError, OSError):
                pass
            finally:
                if conn is not None:
                    conn.close()
            if process is not None:
                process.join(timeout_s)
                if process.is_alive():
                    process.kill()
                    process.join()


_LIVE: weakref.WeakSet[WriterProcess] = weakref.WeakSet()


@atexit.register
def _close_at_exit() -> None:
    """At interpreter exit the request lines still waiting are written (as ``logging.shutdown`` does
    for the handler's) and the child ends after every batch it was sent."""
    for writes in list(_LIVE):
        writes.close()


class _LedgerProxy:
    """A ``LedgerSink`` (what the ledger writer needs of a store): ``append`` commits in the child."""

    def __init__(self, owner: WriterProcess) -> None:
        self._owner = owner

    def append(self, records: Sequence[Any]) -> None:
        if records:
            self._owner.write("ledger", _wire(record_wire, records))

    def append_wire(self, rows: Sequence[Any]) -> None:
        if rows:
            self._owner.write("ledger", list(rows))


class _AuditProxy:
    """The audit log's append path: the chain is extended in the child."""

    def __init__(self, owner: WriterProcess) -> None:
        self._owner = owner

    def append_many(self, entries: Sequence[Any]) -> list[Any]:
        if entries:
            self._owner.write("audit", _wire(entry_wire, entries))
        return []


def _wire(encode: Callable[[Any], tuple[Any, ...]], items: Sequence[Any]) -> list[tuple[Any, ...]]:
    """``items`` in wire form; one that cannot be put in it fails as the child would have failed on it."""
    try:
        return [encode(item) for item in items]
    except Exception as exc:
        raise WriteFailed(f"{type(exc).__name__}: {exc}") from exc
