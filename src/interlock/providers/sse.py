"""Reading server-sent events from an upstream byte stream."""

from __future__ import annotations

import aiohttp


class _EventParser:
    """SSE fields, one line at a time; ``line`` returns an ``(event, data)`` pair when a blank line ends one."""

    __slots__ = ("event", "data")

    def __init__(self) -> None:
        self.event = ""
        self.data: list[str] = []

    def line(self, raw: bytes) -> tuple[str, str] | None:
        line = raw.decode("utf-8").rstrip("\r\n")
        if not line:
            done = (self.event or "message", "\n".join(self.data)) if self.data else None
            self.event, self.data = "", []
            return done
        if line.startswith(":"):
            return None
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "data":
            self.data.append(value)
        elif field == "event":
            self.event = value
        return None


class SseReader:
    """The server-sent events of one response body, a network read at a time.

    ``read()`` returns the ``(event, data)`` pairs that the next block of bytes completes (maybe
    none), and None once the body has ended; multi-line data is joined with newlines per the SSE
    spec. A plain coroutine per network read, not an async generator: a provider's stream loops over
    it in its own frame, so a chunk passes through no parsing generator of ours.
    """

    __slots__ = ("_content", "_parser", "_pending", "_ended")

    def __init__(self, content: aiohttp.StreamReader) -> None:
        self._content = content
        self._parser = _EventParser()
        self._pending = b""
        self._ended = False

    async def read(self) -> list[tuple[str, str]] | None:
        if self._ended:
            return None
        block = await self._content.readany()
        parser = self._parser
        if not block:
            self._ended = True
            if self._pending:
                parser.line(self._pending)
            return [(parser.event or "message", "\n".join(parser.data))] if parser.data else None
        lines = (self._pending + block if self._pending else block).split(b"\n")
        self._pending = lines.pop()
        events = []
        for raw in lines:
            done = parser.line(raw)
            if done is not None:
                events.append(done)
        return events
