"""Request lines on their way through the writer process: whole-line writes a pipe keeps atomic,
a child-side writer that a stalled stderr cannot block, and bounded memory on both sides."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from typing import Any

from interlock.observability.offloaded_lines import (
    PIPE_BUF,
    RequestLines,
    StderrLines,
    line_chunks,
    write_lines,
)


def _fields(i: int) -> dict[str, Any]:
    return {"request_id": f"r{i}", "endpoint": "chat", "pad": "x" * 150}


def _drain(fd: int, into: list[bytes]) -> threading.Thread:
    reader = threading.Thread(target=lambda: into.extend(iter(lambda: os.read(fd, 65536), b"")))
    reader.start()
    return reader


def _wait_for(condition: Any, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_lines_go_out_in_whole_line_writes_no_larger_than_a_pipe_writes_atomically() -> None:
    lines = [f'{{"request_id": "r{i}", "pad": "{"x" * (i * 37 % 900)}"}}\n'.encode() for i in range(200)]
    data = b"".join(lines)
    pieces = [bytes(p) for p in line_chunks(data, limit=PIPE_BUF)]
    assert b"".join(pieces) == data and len(pieces) > 1
    assert all(len(p) <= PIPE_BUF and p.endswith(b"\n") for p in pieces)
    long_line = b"y" * (PIPE_BUF * 2) + b"\n"  # a prompt-sized line cannot be atomic: it is written alone
    assert [bytes(p) for p in line_chunks(b"a\n" + long_line + b"b\n")] == [b"a\n", long_line, b"b\n"]
    read, write = os.pipe()  # more than a pipe holds: a reader drains it meanwhile
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.extend(iter(lambda: os.read(read, 65536), b"")))
    reader.start()
    try:
        write_lines(write, data)
    finally:
        os.close(write)
        reader.join(10)
        os.close(read)
    assert b"".join(received) == data


def test_a_stderr_that_takes_no_writes_blocks_no_one_and_what_overflows_is_counted() -> None:
    read, write = os.pipe()  # nobody reads it at first: once 64 KiB are in, writes block
    lines = StderrLines(fd=write, max_waiting=2000)
    received: list[bytes] = []
    reader: threading.Thread | None = None
    try:
        now = time.time()
        lines.put([(now, _fields(i)) for i in range(1000)])  # about 200 KB: the writer thread blocks
        _wait_for(lambda: lines._count == 0)
        started = time.monotonic()
        lines.put([(now, _fields(i)) for i in range(1000, 2500)])  # waits in memory
        lines.put([(now, _fields(i)) for i in range(2500, 3500)])  # past max_waiting: dropped, counted
        assert time.monotonic() - started < 1  # put never waits for the pipe
        assert lines.dropped == 1000
        reader = _drain(read, received)
        lines.close()
    finally:
        os.close(write)
        if reader is not None:
            reader.join(10)
        os.close(read)
    written = [json.loads(line) for line in b"".join(received).splitlines()]
    ids = [entry["request_id"] for entry in written if entry["logger"] == "interlock.request"]
    assert ids == [f"r{i}" for i in range(2500)]
    warnings = [entry["msg"] for entry in written if entry["level"] == "warning"]
    assert warnings == ["1000 request log lines were dropped: stderr was not taking writes"]


def test_the_gateway_side_holds_at_most_max_waiting_lines_and_says_how_many_it_dropped() -> None:
    release, sent = threading.Event(), []

    def send(batch: list[Any]) -> None:
        release.wait(10)  # the child is busy (a long ledger commit, a restart)
        sent.extend(fields["request_id"] for _, fields in batch)

    warned: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: warned.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("interlock.logging")
    logger.addHandler(handler)
    lines = RequestLines(send, delay_s=0.01, max_waiting=10)
    try:
        lines.add(time.time(), _fields(0))
        _wait_for(lambda: not lines._waiting)  # the first batch is on its way, and stuck
        for i in range(1, 16):
            lines.add(time.time(), _fields(i))
        assert lines.dropped == 5
        release.set()
        lines.close()
    finally:
        logger.removeHandler(handler)
    assert sent == [f"r{i}" for i in range(11)]
    assert warned == ["5 request log lines were dropped: the writer process was not taking them"]
