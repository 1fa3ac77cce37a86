"""The request log: one JSON line per request, its fields in a fixed order, written in batches."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from interlock.observability.logging import (
    BatchingStreamHandler,
    JsonFormatter,
    configure_logging,
    log_request,
)
from interlock.observability.record import RequestRecord
from interlock.types import Usage

SRC = Path(__file__).resolve().parents[2] / "src"

LINE_KEYS = [
    "ts", "level", "logger", "msg", "request_id", "upstream_request_id", "endpoint", "requested_model",
    "key_id", "team", "model", "deployment", "status", "error_code", "stream", "latency_ms", "ttft_ms",
    "prompt_tokens", "completion_tokens", "attempts", "config_hash",
]


class Writes(io.StringIO):
    """A stream that remembers each write call."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def write(self, text: str) -> int:
        self.calls.append(text)
        return super().write(text)


def finished_record(**extra: object) -> RequestRecord:
    rec = RequestRecord(
        request_id="req_1", endpoint="/v1/chat/completions", upstream_request_id="up_1",
        requested_model="auto",
        key_id="k1", team="blue", model="m", deployment="d", stream=True, usage=Usage(12, 5),
        first_token_s=0.0123456, latency_s=0.0456789, config_hash="abc", attempts=2,
        prompt_text="the prompt", completion_text="the answer",
    )
    rec.extra.update(extra)
    return rec


@pytest.fixture
def request_lines() -> Iterator[tuple[BatchingStreamHandler, Writes]]:
    """The request logger writing through a batching handler into a ``Writes`` stream."""
    logger = logging.getLogger("interlock.request")
    saved = logger.handlers[:], logger.level, logger.propagate
    stream = Writes()
    handler = BatchingStreamHandler(stream, delay_s=60)  # the tests write the batches themselves
    handler.setFormatter(JsonFormatter())
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield handler, stream
    handler.close()
    logger.handlers[:], logger.level, logger.propagate = saved


def lines(stream: Writes) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_request_line_has_its_fields_in_order_and_no_text(request_lines) -> None:
    handler, stream = request_lines
    log_request(finished_record(route="auto", category="coding", rule="policy"), include_text=False)
    handler.flush()
    [line] = lines(stream)
    assert list(line) == [*LINE_KEYS, "route", "category", "rule"]
    assert line["level"] == "info" and line["logger"] == "interlock.request" and line["msg"] == "request"
    ids = (line["request_id"], line["upstream_request_id"], line["key_id"], line["team"])
    assert ids == ("req_1", "up_1", "k1", "blue")
    assert (line["status"], line["error_code"], line["stream"], line["attempts"]) == (200, None, True, 2)
    assert (line["latency_ms"], line["ttft_ms"]) == (45.68, 12.35)
    assert (line["prompt_tokens"], line["completion_tokens"]) == (12, 5)
    assert (line["route"], line["category"], line["rule"]) == ("auto", "coding", "policy")
    assert "the prompt" not in stream.getvalue()


def test_prompt_and_completion_are_logged_only_when_allowed(request_lines) -> None:
    handler, stream = request_lines
    log_request(finished_record(), include_text=True)
    handler.flush()
    [line] = lines(stream)
    assert list(line) == [*LINE_KEYS, "prompt", "completion"]
    assert (line["prompt"], line["completion"]) == ("the prompt", "the answer")


def caplog_request_record(caplog: pytest.LogCaptureFixture) -> logging.LogRecord:
    """Log one request and return the record caplog saw (the request logger propagates meanwhile)."""
    logger = logging.getLogger("interlock.request")
    with caplog.at_level(logging.INFO, logger="interlock.request"):
        saved, logger.propagate = logger.propagate, True
        try:
            log_request(finished_record(), include_text=False)
        finally:
            logger.propagate = saved
    [record] = [r for r in caplog.records if r.name == "interlock.request"]
    return record


def test_other_handlers_and_caplog_see_the_request_record(caplog: pytest.LogCaptureFixture) -> None:
    record = caplog_request_record(caplog)
    assert record.getMessage() == "request" and record.levelno == logging.INFO
    assert record.fields["request_id"] == "req_1"  # type: ignore[attr-defined]
    assert (record.pathname, record.funcName, record.lineno) == ("(unknown file)", "(unknown function)", 0)


def test_the_request_record_holds_what_a_logrecord_holds_for_any_formatter(monkeypatch: pytest.MonkeyPatch) -> None:
    # configure_logging turns thread and process lookups off; the request log then makes its records itself
    for flag in ("logThreads", "logProcesses", "logMultiprocessing"):
        monkeypatch.setattr(logging, flag, False)
    logger = logging.getLogger("interlock.request")
    seen: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = seen.append  # type: ignore[method-assign]
    logger.addHandler(handler)
    saved_level, saved_propagate = logger.level, logger.propagate
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        before = time.time()
        log_request(finished_record(), include_text=False)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved_level)
        logger.propagate = saved_propagate
    [record] = seen
    plain = logging.LogRecord("interlock.request", logging.INFO, "(unknown file)", 0, "request", (), None,
                              "(unknown function)")
    assert set(vars(record)) == {*vars(plain), "fields"}
    for name, value in vars(plain).items():
        if name not in ("created", "msecs", "relativeCreated"):
            assert getattr(record, name) == value, name
    assert before <= record.created <= time.time()
    assert record.msecs == int((record.created - int(record.created)) * 1000)
    text = logging.Formatter("%(name)s %(levelname)s %(module)s %(threadName)s %(message)s").format(record)
    assert text == "interlock.request INFO (unknown file) None request"


def test_an_installed_record_factory_makes_the_request_record_too(caplog: pytest.LogCaptureFixture) -> None:
    made: list[logging.LogRecord] = []
    default = logging.getLogRecordFactory()

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = default(*args, **kwargs)
        record.trace_id = "t-1"  # what a tracing library's factory adds
        made.append(record)
        return record

    logging.setLogRecordFactory(factory)
    try:
        record = caplog_request_record(caplog)
    finally:
        logging.setLogRecordFactory(default)
    assert made == [record] and record.trace_id == "t-1"  # type: ignore[attr-defined]
    assert record.fields["request_id"] == "req_1"  # type: ignore[attr-defined]


def test_the_timestamp_is_utc_with_milliseconds() -> None:
    record = logging.makeLogRecord({"name": "x", "msg": "m", "levelname": "INFO"})
    formatter = JsonFormatter()
    for created in (1_700_000_000.0, 1_700_000_000.5, 1_700_000_000.9995, 1_700_000_001.007):
        record.created, record.msecs = created, int((created - int(created)) * 1000) + 0.0
        stamp = json.loads(formatter.format(record))["ts"]
        second = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(created)))
        assert stamp == f"{second}.{int(record.msecs):03d}Z"


def test_fields_that_repeat_a_head_key_replace_its_value_in_place() -> None:
    fields = {"msg": "y", "n": 1}
    record = logging.makeLogRecord({"name": "x", "msg": "m", "levelname": "WARNING", "fields": fields})
    line = json.loads(JsonFormatter().format(record))
    assert list(line) == ["ts", "level", "logger", "msg", "n"]
    assert line["msg"] == "y" and line["level"] == "warning"


def test_request_lines_wait_and_go_out_in_one_write(request_lines) -> None:
    handler, stream = request_lines
    for _ in range(3):
        log_request(finished_record(), include_text=False)
    assert stream.calls == []
    handler.flush()
    assert len(stream.calls) == 1 and len(lines(stream)) == 3


def test_other_lines_go_out_at_once_after_the_waiting_request_lines(request_lines) -> None:
    handler, stream = request_lines
    log_request(finished_record(), include_text=False)
    logging.getLogger("interlock.request").warning("not a request line")  # a warning of the batched logger
    handler.handle(logging.makeLogRecord({"name": "interlock.startup", "msg": "ready", "levelname": "INFO",
                                          "levelno": logging.INFO}))
    assert [line["msg"] for line in lines(stream)] == ["request", "not a request line", "ready"]


def test_a_full_batch_is_written_without_waiting(request_lines) -> None:
    handler, stream = request_lines
    log_request(finished_record(), include_text=False)
    handler.flush()
    handler.max_chars = 2 * len(stream.calls[0])  # two lines fill a batch
    for _ in range(2):
        log_request(finished_record(), include_text=False)
    assert len(stream.calls) == 2 and len(lines(stream)) == 3
    log_request(finished_record(), include_text=False)
    assert len(stream.calls) == 2


def test_waiting_lines_are_written_within_the_delay() -> None:
    stream = Writes()
    handler = BatchingStreamHandler(stream, delay_s=0.02)
    handler.setFormatter(JsonFormatter())
    try:
        for round_ in range(2):  # the writer thread sleeps between batches and wakes for the next
            started = time.monotonic()
            handler.handle(logging.makeLogRecord({"name": "interlock.request", "msg": f"r{round_}"}))
            while len(stream.calls) <= round_ and time.monotonic() - started < 5:
                time.sleep(0.005)
            assert len(stream.calls) == round_ + 1, "the waiting line was never written"
            assert time.monotonic() - started < 2
    finally:
        handler.close()


def test_close_writes_what_waits_and_later_lines_go_out_at_once() -> None:
    stream = Writes()
    handler = BatchingStreamHandler(stream, delay_s=60)
    handler.handle(logging.makeLogRecord({"name": "interlock.request", "msg": "first"}))
    handler.close()
    assert stream.getvalue() == "first\n"
    handler.handle(logging.makeLogRecord({"name": "interlock.request", "msg": "late"}))
    assert stream.getvalue() == "first\nlate\n"


def test_configuring_again_writes_the_old_handlers_waiting_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    root = logging.getLogger("interlock")
    saved = root.handlers[:], root.level, root.propagate
    first, second = Writes(), Writes()
    try:
        monkeypatch.setattr(sys, "stderr", first)
        configure_logging("INFO")
        log_request(finished_record(), include_text=False)
        monkeypatch.setattr(sys, "stderr", second)
        configure_logging("INFO")
        assert len(lines(first)) == 1 and second.getvalue() == ""
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:], root.level, root.propagate = saved


def test_every_request_line_is_written_when_the_process_exits() -> None:
    script = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from interlock.observability.logging import configure_logging, log_request\n"
        "from interlock.observability.record import RequestRecord\n"
        "configure_logging('INFO')\n"
        "for i in range(500):\n"
        "    rec = RequestRecord(request_id=f'r{i}', endpoint='/v1/chat/completions')\n"
        "    log_request(rec, include_text=False)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(SRC)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    ids = [json.loads(line)["request_id"] for line in done.stderr.splitlines()]
    assert ids == [f"r{i}" for i in range(500)]


def test_with_the_writer_process_request_lines_are_written_by_it_and_none_is_lost_at_exit() -> None:
    script = (
        "import logging, sys; sys.path.insert(0, sys.argv[1])\n"
        "from interlock.observability.logging import configure_logging, log_request, offload_request_lines\n"
        "from interlock.observability.record import RequestRecord\n"
        "from interlock.storage.writer_process import WriterProcess\n"
        "if __name__ == '__main__':\n"
        "    configure_logging('INFO')\n"
        "    handled = []\n"
        "    handler = logging.getLogger('interlock').handlers[0]\n"
        "    emit = handler.emit\n"
        "    handler.emit = lambda record: (handled.append(record.name), emit(record))\n"
        "    writes = WriterProcess(None, None)\n"
        "    offload_request_lines(writes.lines.add)\n"
        "    for i in range(500):\n"
        "        log_request(RequestRecord(request_id=f'r{i}', endpoint='chat'), include_text=False)\n"
        "    logging.getLogger('interlock.gateway').warning('still written here')\n"
        "    print(handled)\n"  # never closed: the lines still waiting go out at exit
    )
    done = subprocess.run([sys.executable, "-c", script, str(SRC)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['interlock.gateway']"  # no request line went through this process's handler
    written = [json.loads(line) for line in done.stderr.splitlines()]
    requests = [entry for entry in written if entry["logger"] == "interlock.request"]
    assert [entry["request_id"] for entry in requests] == [f"r{i}" for i in range(500)]
    assert all(list(entry) == LINE_KEYS for entry in requests)
    assert [entry["msg"] for entry in written if entry["logger"] == "interlock.gateway"] == ["still written here"]


def test_a_handler_or_record_factory_someone_added_still_gets_every_request_record(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from interlock.observability import logging as request_logging

    root = logging.getLogger("interlock")
    saved = root.handlers[:], root.level, root.propagate
    stream, offloaded = Writes(), []
    try:
        monkeypatch.setattr(sys, "stderr", stream)
        configure_logging("INFO")
        monkeypatch.setattr(request_logging, "_standard", root.handlers[0])  # as if it wrote to fd 2
        request_logging.offload_request_lines(lambda created, fields: offloaded.append(fields["request_id"]))
        log_request(finished_record(), include_text=False)
        assert offloaded == ["req_1"]
        caught = Caught()
        request_log = logging.getLogger("interlock.request")
        request_log.addHandler(caught)
        try:
            log_request(finished_record(), include_text=False)
        finally:
            request_log.removeHandler(caught)
        assert offloaded == ["req_1"] and len(caught.records) == 1
        factory = logging.getLogRecordFactory()
        logging.setLogRecordFactory(lambda *a, **k: factory(*a, **k))
        try:
            log_request(finished_record(), include_text=False)
        finally:
            logging.setLogRecordFactory(factory)
        assert offloaded == ["req_1"]
        root.handlers[0].flush()
        assert len(lines(stream)) == 2  # both went through the handler, in this process
    finally:
        request_logging._offload = None
        for handler in root.handlers:
            handler.close()
        root.handlers[:], root.level, root.propagate = saved


class Caught(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
