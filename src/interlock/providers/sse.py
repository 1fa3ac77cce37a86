"""Reading server-sent events from an upstream byte stream."""

from __future__ import annotations

from typing import Any, Protocol

import orjson

from interlock.errors import UpstreamMalformed


class ByteStream(Protocol):
    """A response body read as it arrives: ``readany`` returns what has come (b"" at the end).
    aiohttp's ``StreamReader`` is one; so is ``http1.Response``."""

    async def readany(self) -> bytes: ...


def event_json(data: str, deployment: str) -> Any:
    """A stream event's data parsed as JSON; ``UpstreamMalformed`` naming ``deployment`` when it is not."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        raise UpstreamMalformed(f"Upstream deployment {deployment!r} sent a stream event that is not JSON",
                                deployment=deployment) from None


class _EventParser:
    """SSE fields: ``lines`` takes a network read's worth of decoded lines and returns the
    ``(event, data)`` pairs that the blank lines among them end."""

    __slots__ = ("data", "event")

    def __init__(self) -> None:
        self.event = ""
        self.data: list[str] = []

    def lines(self, lines: list[str]) -> list[tuple[str, str]]:
        """Lines without their newlines. A stream's cost is per line: the usual ``data: ...`` line
        skips the general field split."""
        events = []
        event, data = self.event, self.data
        for line in lines:
            if line[-1:] == "\r":
                line = line.rstrip("\r")
            if line[:6] == "data: ":
                data.append(line[6:])
            elif not line:
                if data:
                    events.append((event or "message", "\n".join(data)))
                event, data = "", []
            elif line[0] != ":":
                field, _, value = line.partition(":")
                value = value[1:] if value[:1] == " " else value
                if field == "data":
                    data.append(value)
                elif field == "event":
                    event = value
        self.event, self.data = event, data
        return events


def _is_one_data_line_event(block: bytes) -> bool:
    """Whether ``block`` is exactly ``data: <text>\\n\\n``: one whole event of one line, no CR to strip."""
    return block[:6] == b"data: " and block.find(b"\n") == len(block) - 2 and block[-1:] == b"\n" and (
        block[-3:-2] != b"\r"
    )


class SseReader:
    """The server-sent events of one response body, a network read at a time.

    ``read()`` returns the ``(event, data)`` pairs that the next block of bytes completes (maybe
    none), and None once the body has ended; multi-line data is joined with newlines per the SSE
    spec. A plain coroutine per network read, not an async generator: a provider's stream loops over
    it in its own frame, so a chunk passes through no parsing generator of ours.
    """

    __slots__ = ("_content", "_ended", "_parser", "_pending")

    def __init__(self, content: ByteStream) -> None:
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
            if self._pending:  # a last line without its newline
                parser.lines([self._pending.decode("utf-8")])
            return [(parser.event or "message", "\n".join(parser.data))] if parser.data else None
        if self._pending:
            block = self._pending + block
        elif not parser.data and _is_one_data_line_event(block):  # the usual read as tokens arrive
            event, parser.event = parser.event or "message", ""
            return [(event, block[6:-2].decode("utf-8"))]
        end = block.rfind(b"\n")  # the whole lines are decoded at once; the rest waits for its end
        self._pending = block[end + 1:]
        return parser.lines(block[:end].decode("utf-8").split("\n")) if end >= 0 else []
