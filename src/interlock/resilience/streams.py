"""Async-stream plumbing for the wrappers: deterministic closing, and a pump for races.

A ``StreamPump`` runs a whole upstream stream inside one task of its own and hands chunks
over a small queue, so two streams can race (hedging) while each is still advanced, and
closed, from a single task.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from interlock.types import JSON


async def close_stream(stream: AsyncIterator[Any]) -> None:
    """Close an async iterator if it can be closed (async generators, provider streams)."""
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()


@contextlib.asynccontextmanager
async def closing(stream: AsyncIterator[JSON]) -> AsyncIterator[AsyncIterator[JSON]]:
    try:
        yield stream
    finally:
        await close_stream(stream)


async def cancel_task(task: asyncio.Future[Any]) -> None:
    """Cancel ``task`` and wait for it to finish, without inheriting its error or cancellation."""
    task.cancel()
    await asyncio.wait({task})
    if not task.cancelled():
        task.exception()  # retrieved, so it is not reported as never retrieved


_END = object()


class StreamPump:
    """Drives ``stream`` in its own task; ``next()`` returns its chunks, re-raises its error,
    and raises ``StopAsyncIteration`` at its end. ``cancel()`` stops it and closes the stream."""

    def __init__(self, stream: AsyncIterator[JSON], buffer: int = 8) -> None:
        self._queue: asyncio.Queue[tuple[object, BaseException | None]] = asyncio.Queue(maxsize=buffer)
        self._task = asyncio.create_task(self._run(stream))

    async def _run(self, stream: AsyncIterator[JSON]) -> None:
        try:
            async with closing(stream):
                async for chunk in stream:
                    await self._queue.put((chunk, None))
            await self._queue.put((_END, None))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self._queue.put((_END, exc))

    async def next(self) -> JSON:
        item, error = await self._queue.get()
        if error is not None:
            raise error
        if item is _END:
            raise StopAsyncIteration
        return item  # type: ignore[return-value]

    async def cancel(self) -> None:
        await cancel_task(self._task)

    async def __aiter__(self) -> AsyncIterator[JSON]:
        try:
            while True:
                try:
                    chunk = await self.next()
                except StopAsyncIteration:
                    return
                yield chunk
        finally:
            await self.cancel()
