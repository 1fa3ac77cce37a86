"""Request log lines written by the writer process (``storage/writer_process.py``) instead of the
serving one: ``RequestLines`` gathers them in the gateway, ``StderrLines`` writes them in the child.

``observability.logging.offload_request_lines`` hands each line's time and fields to
``RequestLines.add`` while the standard handler is the only one. Every ``delay_s`` (as the
standard handler batches) they cross the pipe as one batch; the child formats them with the same
``JsonFormatter`` and writes them from a thread of its own, to the stderr the two processes share,
so a stderr that stops taking writes (a stalled log collector) holds up neither the ledger and
audit commits nor the gateway. Memory stays bounded on both sides: past ``max_waiting`` lines a
batch is dropped and counted, and the count is written as a warning once lines flow again.
Lines the child cannot take are written by the gateway itself.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import orjson

from interlock.observability.logging import request_lines_text

log = logging.getLogger("interlock.logging")

Line = tuple[float, dict[str, Any]]  # time.time() and the line's fields
MAX_WAITING = 100_000  # lines held on either side while they cannot be written (about 50 MB)

PIPE_BUF = 4096  # POSIX: a write to a pipe of at most this many bytes is never interleaved with another's


def line_chunks(data: bytes, limit: int = PIPE_BUF) -> Iterator[memoryview]:
    """``data`` (whole lines) in pieces of at most ``limit`` bytes that each end a line; a longer
    line is a piece of its own."""
    view, start, end_of_data = memoryview(data), 0, len(data)
    while start < end_of_data:
        end = start + limit
        if end >= end_of_data:
            end = end_of_data
        else:
            cut = data.rfind(b"\n", start, end)
            end = cut + 1 if cut >= 0 else (data.find(b"\n", end) + 1 or end_of_data)
        yield view[start:end]
        start = end


def write_lines(fd: int, data: bytes) -> None:
    """Write lines to ``fd`` in whole-line writes of at most ``PIPE_BUF`` bytes: the gateway writes its
    own log lines to the same stderr, and on a pipe (a container's log driver, systemd) a larger
    write could be split by one of them, mid-line."""
    for piece in line_chunks(data):
        while piece:
            piece = piece[os.write(fd, piece):]


def dropped_line(count: int, where: str) -> bytes:
    entry = {"ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "level": "warning",
             "logger": log.name, "msg": f"{count} request log lines were dropped: {where}"}
    return orjson.dumps(entry) + b"\n"


class StderrLines:
    """The child's side: batches queue here and a thread of its own formats and writes them to ``fd``."""

    def __init__(self, fd: int = 2, max_waiting: int = MAX_WAITING) -> None:
        self.fd, self.max_waiting = fd, max_waiting
        self.dropped = 0
        self._waiting: collections.deque[Sequence[Line]] = collections.deque()
        self._count = 0  # lines in ``_waiting``
        self._lock = threading.Lock()
        self._due = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._write_when_due, name="request-lines", daemon=True)
        self._thread.start()

    def put(self, batch: Sequence[Line]) -> None:
        """Queue a batch; never blocks, even when ``fd`` takes no writes."""
        with self._lock:
            if self._count + len(batch) > self.max_waiting:
                self.dropped += len(batch)
                return
            self._waiting.append(batch)
            self._count += len(batch)
        self._due.set()

    def _write_when_due(self) -> None:
        while True:
            self._due.wait()
            self._due.clear()
            with self._lock:
                batches, self._waiting, self._count = self._waiting, collections.deque(), 0
                dropped, self.dropped = self.dropped, 0
            try:
                text = "".join(request_lines_text(batch) for batch in batches).encode()
                write_lines(self.fd, text + (dropped_line(dropped, "stderr was not taking writes") if dropped else b""))
            except OSError:  # stderr is gone: nothing is left to tell
                pass
            except Exception as exc:  # a line that cannot be encoded: say so, and keep writing the next ones
                lost = sum(len(batch) for batch in batches) + dropped
                with contextlib.suppress(OSError):
                    write_lines(self.fd, dropped_line(lost, f"they could not be written ({type(exc).__name__})"))
            if self._closed and not self._waiting:
                return

    def close(self, timeout_s: float = 5.0) -> None:
        """Write what waits (giving up after ``timeout_s`` if ``fd`` takes no writes)."""
        self._closed = True
        self._due.set()
        self._thread.join(timeout_s)


class RequestLines:
    """The gateway's side (a ``RequestLineSink``): lines wait here at most ``delay_s`` after the first
    of them, then ``send`` hands them to the child as one batch."""

    def __init__(self, send: Callable[[list[Line]], None], delay_s: float = 0.05,
                 max_waiting: int = MAX_WAITING) -> None:
        self._send_batch = send
        self.delay_s, self.max_waiting = delay_s, max_waiting
        self.dropped = 0
        self._waiting: collections.deque[Line] = collections.deque()
        self._due = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._sending = threading.Lock()

    def add(self, created: float, fields: dict[str, Any]) -> None:
        """Queue one line; never blocks. Call from the event loop's thread."""
        if len(self._waiting) >= self.max_waiting:  # the child has not taken a batch for a long while
            self.dropped += 1
            return
        self._waiting.append((created, fields))
        if self._closed:
            self._send()
            return
        if not self._due.is_set():
            if self._thread is None:
                self._thread = threading.Thread(target=self._send_when_due, name="request-lines", daemon=True)
                self._thread.start()
            self._due.set()

    def _send_when_due(self) -> None:
        while not self._closed:
            self._due.wait()
            time.sleep(self.delay_s)
            self._due.clear()
            self._send()

    def _send(self) -> None:
        with self._sending:  # one batch at a time, in order (``close`` may send while the thread does)
            waiting = self._waiting
            batch = [waiting.popleft() for _ in range(len(waiting))]  # a line added meanwhile waits its turn
            if not batch:
                return
            try:
                self._send_batch(batch)
            except Exception:  # closed, or the child is gone: the lines still reach stderr, from here
                sys.stderr.write(request_lines_text(batch))
                sys.stderr.flush()
        if self.dropped:
            dropped, self.dropped = self.dropped, 0
            log.warning("%d request log lines were dropped: the writer process was not taking them", dropped)

    def close(self) -> None:
        """Send every waiting line; a line added later is written at once, by this process."""
        self._closed = True
        self._due.set()
        self._send()


__all__ = ["PIPE_BUF", "RequestLines", "StderrLines", "line_chunks", "write_lines"]
