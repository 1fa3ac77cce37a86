"""Noticing that a client went away, and cancelling the work done on its behalf at once.

A client that gives up (a timeout in its SDK, a closed tab) must not keep an upstream call, its
connection and the request's memory alive until the upstream answers. ``cancel_on_disconnect``
watches the ASGI ``receive`` channel while the core works and cancels the handler's task when
``http.disconnect`` arrives; the core's own ``finally``/``except BaseException`` blocks release
budget holds and close upstream streams on the way out.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import ClassVar

from starlette.types import Receive

from interlock.errors import InterlockError


class ClientDisconnected(InterlockError):
    """The client closed the connection before the answer was ready (nginx's 499)."""

    status: ClassVar[int] = 499
    error_type: ClassVar[str] = "invalid_request_error"
    default_code: ClassVar[str | None] = "client_closed_request"


async def wait_for_disconnect(receive: Receive) -> None:
    """Return when the server reports ``http.disconnect`` (call only once the body has been read)."""
    while (await receive())["type"] != "http.disconnect":
        pass


WATCH_AFTER_S = 0.05
"""Most answers are done sooner than this; only a call still running then gets a watcher task."""


class cancel_on_disconnect:  # noqa: N801 - used like ``asyncio.timeout``
    """``async with cancel_on_disconnect(receive):`` cancels the block when the client leaves.

    The block then ends with ``ClientDisconnected`` instead of ``CancelledError``; a cancellation
    from anywhere else (server shutdown) passes through untouched. The watcher task starts only
    once the block has run for ``watch_after_s``: a fast answer costs a timer, not a task, and a
    client that leaves a slow call is still noticed within that delay.
    """

    def __init__(self, receive: Receive, watch_after_s: float = WATCH_AFTER_S) -> None:
        self._receive = receive
        self._watch_after_s = watch_after_s
        self._task: asyncio.Task[object] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._watcher: asyncio.Future[None] | None = None
        self.disconnected = False

    async def __aenter__(self) -> cancel_on_disconnect:
        self._task = asyncio.current_task()
        self._timer = asyncio.get_running_loop().call_later(self._watch_after_s, self._start_watching)
        return self

    def _start_watching(self) -> None:
        self._timer = None
        self._watcher = asyncio.ensure_future(self._watch())

    async def _watch(self) -> None:
        await wait_for_disconnect(self._receive)
        self.disconnected = True
        assert self._task is not None
        self._task.cancel()

    async def __aexit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        assert self._task is not None
        if self._timer is not None:
            self._timer.cancel()
        if self._watcher is not None:
            self._watcher.cancel()
        if self.disconnected and et is not None and issubclass(et, asyncio.CancelledError):
            if self._task.uncancel() == 0:  # the client's leaving was the only cancellation
                raise ClientDisconnected("The client closed the connection before the answer was ready.")
        elif self.disconnected:
            # the block finished as the client left: take back the cancellation not yet delivered
            self._task.uncancel()
        return False
