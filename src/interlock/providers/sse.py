"""Reading server-sent events from an upstream byte stream."""

from __future__ import annotations

from collections.abc import AsyncIterator

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


async def iter_sse(content: aiohttp.StreamReader) -> AsyncIterator[tuple[str, str]]:
    """Yield ``(event, data)`` pairs; multi-line data is joined with newlines per the SSE spec.

    Reads whatever bytes have arrived and splits them into lines here (one read per network
    chunk rather than one per line).
    """
    parser = _EventParser()
    pending = b""
    async for block in content.iter_any():
        lines = (pending + block if pending else block).split(b"\n")
        pending = lines.pop()
        for raw in lines:
            done = parser.line(raw)
            if done is not None:
                yield done
    if pending:
        parser.line(pending)
    if parser.data:
        yield parser.event or "message", "\n".join(parser.data)
