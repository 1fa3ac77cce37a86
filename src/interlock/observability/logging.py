"""Structured JSON logs: one line per request; prompt and completion text only when a setting allows it."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

import orjson

from interlock.observability.record import RequestRecord

request_log = logging.getLogger("interlock.request")


class JsonFormatter(logging.Formatter):
    _second: tuple[int, str] = (-1, "")  # one tuple, so threads sharing the formatter never see a torn pair

    def _timestamp(self, record: logging.LogRecord) -> str:
        second, text = self._second
        if int(record.created) != second:  # formatting the date is most of the cost; it changes once a second
            second = int(record.created)
            text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = (second, text)
        return f"{text}.{int(record.msecs):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self._timestamp(record),
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


def configure_logging(level: str = "INFO") -> None:
    # No formatter here prints thread, process or multiprocessing names: don't look them up for
    # every record (the logging HOWTO's "Optimization"; a third of a request line's cost).
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("interlock")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


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
    # Logger.info() would also walk the stack to find the caller, which no formatter here prints.
    record = request_log.makeRecord(
        request_log.name, logging.INFO, "(unknown file)", 0, "request", (), None, "(unknown function)",
        {"fields": fields},
    )
    request_log.handle(record)


startup_log = logging.getLogger("interlock.startup")


def use_json_logs(choice: str, stream: Any = None) -> bool:
    """``json`` / ``text``, or ``auto``: JSON unless a person is watching (stderr is a terminal)."""
    if choice not in ("auto", "json", "text"):
        raise ValueError(f"log format must be auto, json or text, not {choice!r}")
    if choice == "auto":
        stream = stream or sys.stderr
        return not (hasattr(stream, "isatty") and stream.isatty())
    return choice == "json"
