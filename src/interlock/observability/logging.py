"""Structured JSON logs: one line per request; prompt and completion text only when a setting allows it."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Collection
from typing import Any, TextIO

import orjson

from interlock.observability.record import RequestRecord

request_log = logging.getLogger("interlock.request")


_MILLIS = tuple(f".{ms:03d}Z" for ms in range(1000))  # a timestamp's tail, made once instead of per line


class JsonFormatter(logging.Formatter):
    _second: tuple[int, str] = (-1, "")  # one tuple, so threads sharing the formatter never see a torn pair

    def _timestamp(self, created: float) -> str:
        second, text = self._second
        if int(created) != second:  # formatting the date is most of the cost; it changes once a second
            second = int(created)
            text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = (second, text)
        return text + _MILLIS[int((created - int(created)) * 1000)]

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self._timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()

    def request_line(self, created: float, fields: dict[str, Any]) -> str:
        """The line ``format`` writes for the request log's record made at ``created`` with ``fields``."""
        entry: dict[str, Any] = {"ts": self._timestamp(created), "level": "info", "logger": request_log.name,
                                 "msg": "request"}
        entry.update(fields)
        return orjson.dumps(entry, default=str).decode()


class BatchingStreamHandler(logging.StreamHandler[TextIO]):
    """A StreamHandler that writes the lines of the ``batched`` loggers (the request log, one line a
    request) together, at most ``delay_s`` after the first of them, in one write instead of one each.

    Any other record is written at once, after the lines waiting before it: the order is kept, and
    start-up lines, warnings and errors are never delayed. Waiting lines are written on ``flush`` and
    ``close`` (``logging.shutdown`` does both at exit); a process killed outright loses at most the
    last ``delay_s`` of request lines.
    """

    def __init__(self, stream: TextIO | None = None, *, batched: Collection[str] = ("interlock.request",),
                 delay_s: float = 0.05, max_chars: int = 1 << 16) -> None:
        super().__init__(stream)
        self.batched = frozenset(batched)
        self.delay_s = delay_s
        self.max_chars = max_chars
        self._lines: list[str] = []
        self._chars = 0
        self._due = threading.Event()
        self._writer_pid = 0  # the process whose writer thread runs (threads do not survive a fork)
        self._closed = False

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
            self._lines.append(line)
            if record.name not in self.batched or self._closed:
                self._write()
                return
            self._chars += len(line)
            if self._chars >= self.max_chars:
                self._write()
            elif len(self._lines) == 1:
                self._wake_writer()
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)

    def _write(self) -> None:
        """Write the waiting lines (the caller holds ``self.lock``)."""
        if self._lines:
            text = "".join(self._lines)
            self._lines.clear()
            self._chars = 0
            self.stream.write(text)
            super().flush()

    def _wake_writer(self) -> None:
        if self._writer_pid != os.getpid():
            self._writer_pid = os.getpid()
            self._due = threading.Event()
            threading.Thread(target=self._write_when_due, args=(self._due,), name="log-writer",
                             daemon=True).start()
        self._due.set()

    def _write_when_due(self, due: threading.Event) -> None:
        while True:
            due.wait()
            time.sleep(self.delay_s)
            with self.lock:  # type: ignore[union-attr]
                if self._closed:
                    return
                due.clear()
                try:
                    self._write()
                except Exception:  # the stream failed: report it as a failed emit would
                    self.handleError(logging.makeLogRecord({"msg": "batched log lines could not be written"}))

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            self._write()
            super().flush()

    def close(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            try:
                self._write()
            finally:
                self._closed = True
                self._due.set()  # the writer thread ends
                super().close()


def configure_logging(level: str = "INFO") -> None:
    # No formatter here prints thread, process or multiprocessing names: don't look them up for
    # every record (the logging HOWTO's "Optimization"; a third of a request line's cost).
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    global _standard
    handler = BatchingStreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    _standard = handler if _writes_to_stderr_fd(handler.stream) else None
    root = logging.getLogger("interlock")
    for old in root.handlers:
        if isinstance(old, BatchingStreamHandler):  # its waiting lines go out before the new handler's
            old.close()
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    # the server's own warnings and errors come out as JSON lines through the same handler
    server = logging.getLogger("uvicorn")
    server.handlers[:] = [handler]
    server.propagate = False


def log_request(rec: RequestRecord, include_text: bool) -> None:
    if not request_log.isEnabledFor(logging.INFO):
        return
    fields: dict[str, Any] = {
        "request_id": rec.request_id,
        "upstream_request_id": rec.upstream_id,
        "endpoint": rec.endpoint,
        "requested_model": rec.requested_model,
        "key_id": rec.key_id,  # the key's id, never the key
        "team": rec.team,
        "model": rec.model,
        "deployment": rec.deployment,
        "status": rec.status,
        "error_code": rec.error_code,
        "stream": rec.stream,
        "latency_ms": round(rec.latency_s * 1000, 2),
        "ttft_ms": round(rec.first_token_s * 1000, 2) if rec.first_token_s is not None else None,
        "prompt_tokens": rec.usage.prompt_tokens,
        "completion_tokens": rec.usage.completion_tokens,
        "attempts": rec.attempts,
        "config_hash": rec.config_hash,
        **rec.extra,
    }
    if include_text:
        fields["prompt"] = rec.prompt_text
        fields["completion"] = rec.completion_text
    sink = _offload
    if sink is not None and _standard_chain():
        sink(time.time(), fields)  # formatted and written by another process, to the same stderr
        return
    # Logger.info() would also walk the stack to find the caller, which no formatter here prints; the
    # record factory is what makeRecord calls, without its loop checking ``extra`` for clashing names.
    factory = logging.getLogRecordFactory()
    if factory is logging.LogRecord and not (logging.logThreads or logging.logProcesses or logging.logMultiprocessing):
        record: logging.LogRecord = _RequestLine(fields)  # configure_logging turns those three off
    else:  # a factory someone installed (trace ids, say) makes every record, this one too
        record = factory(request_log.name, logging.INFO, "(unknown file)", 0, "request", (), None,
                         "(unknown function)")
        record.fields = fields  # type: ignore[attr-defined]
    request_log.handle(record)


class _RequestLine(logging.LogRecord):
    """The request log's record, holding what ``LogRecord`` would: the attributes that are the same on
    every line (level, place, message) are copied from one dict, and only the time and fields are new."""

    def __init__(self, fields: dict[str, Any]) -> None:  # LogRecord's work, minus what never changes
        self.__dict__.update(_CONSTANT)
        self.created = now = time.time()
        self.msecs = int((now - int(now)) * 1000) + 0.0
        self.relativeCreated = (now - _START) * 1000
        self.fields = fields


_START: float = logging._startTime  # type: ignore[attr-defined]  # what LogRecord measures relativeCreated from
_CONSTANT = {
    k: v for k, v in vars(logging.LogRecord(request_log.name, logging.INFO, "(unknown file)", 0, "request", (), None,
                                            "(unknown function)")).items()
    if k not in ("created", "msecs", "relativeCreated", "thread", "threadName", "processName", "process", "taskName")
} | {"thread": None, "threadName": None, "processName": None, "process": None}


# -- request lines written by another process -----------------------------------------------------------

RequestLineSink = Callable[[float, dict[str, Any]], None]
"""Takes a request line's time (``time.time()``) and fields, and sees that the line reaches stderr."""

_offload: RequestLineSink | None = None
_standard: BatchingStreamHandler | None = None  # configure_logging's handler, when it writes to fd 2
_package_log = logging.getLogger("interlock")


def _writes_to_stderr_fd(stream: Any) -> bool:
    try:
        return bool(stream.fileno() == 2)
    except (AttributeError, OSError, ValueError):  # a StringIO, a closed or detached stream
        return False


def _standard_chain() -> bool:
    """Whether a request line would reach exactly ``configure_logging``'s handler, unfiltered, and be
    made by the standard record factory: then writing it elsewhere to fd 2 changes nothing but the
    process that formats it. Any handler, filter or factory someone added gets records as before."""
    handlers = _package_log.handlers
    return (len(handlers) == 1 and handlers[0] is _standard and not request_log.handlers
            and not request_log.filters and not _package_log.filters and not handlers[0].filters
            and logging.getLogRecordFactory() is logging.LogRecord)


def offload_request_lines(sink: RequestLineSink) -> None:
    """From now on, hand request lines to ``sink`` (the writer process) while the standard handler is
    in place, instead of formatting them in this process."""
    global _offload
    _offload = sink


def withdraw_request_lines(sink: RequestLineSink) -> None:
    """Stop handing lines to ``sink``, unless another sink has replaced it since (a reloaded runtime's)."""
    global _offload
    if _offload is sink:
        _offload = None


_LINES_FORMAT = JsonFormatter()


def request_lines_text(lines: Collection[tuple[float, dict[str, Any]]]) -> str:
    """Request lines, as the standard handler writes them."""
    return "".join(_LINES_FORMAT.request_line(created, fields) + "\n" for created, fields in lines)


startup_log = logging.getLogger("interlock.startup")


def use_json_logs(choice: str, stream: Any = None) -> bool:
    """``json`` / ``text``, or ``auto``: JSON unless a person is watching (stderr is a terminal)."""
    if choice not in ("auto", "json", "text"):
        raise ValueError(f"log format must be auto, json or text, not {choice!r}")
    if choice == "auto":
        stream = stream or sys.stderr
        return not (hasattr(stream, "isatty") and stream.isatty())
    return choice == "json"
