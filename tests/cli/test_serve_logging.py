"""The server's set-up keeps the request log batched, and the server's own warnings come out as JSON lines."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest
import uvicorn

from interlock.cli.serve_cmd import UVICORN_OPTIONS
from interlock.observability.logging import BatchingStreamHandler, configure_logging, log_request
from interlock.observability.record import RequestRecord


async def _app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    pass


@pytest.fixture
def loggers_restored() -> Iterator[None]:
    loggers = [logging.getLogger("interlock"), logging.getLogger("uvicorn")]
    saved = [(lg.handlers[:], lg.level, lg.propagate) for lg in loggers]
    try:
        yield
    finally:
        for lg, (handlers, level, propagate) in zip(loggers, saved, strict=True):
            for handler in lg.handlers:
                handler.close()
            lg.handlers[:], lg.level, lg.propagate = handlers, level, propagate


@pytest.mark.usefixtures("loggers_restored")
def test_the_server_config_leaves_the_request_log_batched(monkeypatch: pytest.MonkeyPatch) -> None:
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)  # here, not in a fixture: pytest resets sys.stderr per phase
    configure_logging("INFO")
    [handler] = logging.getLogger("interlock").handlers
    assert isinstance(handler, BatchingStreamHandler)
    uvicorn.Config(_app, **UVICORN_OPTIONS)  # sets up the server's logging, as serve does before serving
    rec = RequestRecord(request_id="r1", endpoint="chat", requested_model="m")
    rec.finish(200)
    log_request(rec, include_text=False)
    assert stderr.getvalue() == ""  # waiting for its batch: uvicorn did not close the handler
    handler.flush()
    assert json.loads(stderr.getvalue())["request_id"] == "r1"


@pytest.mark.usefixtures("loggers_restored")
def test_the_servers_own_warnings_are_json_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    configure_logging("INFO")
    uvicorn.Config(_app, **UVICORN_OPTIONS)
    logging.getLogger("uvicorn.error").warning("Invalid HTTP request received.")
    line = json.loads(stderr.getvalue())  # written at once: only request lines wait
    assert (line["level"], line["logger"], line["msg"]) == ("warning", "uvicorn.error", "Invalid HTTP request received.")
