"""Server-sent events: the same events however the body is cut into network reads."""

from __future__ import annotations

import random

import pytest

from interlock.providers.sse import SseReader


class _Body:
    """The reads of one response body (what ``aiohttp.StreamReader.readany`` returns), then b''."""

    def __init__(self, blocks: list[bytes]) -> None:
        self.blocks = list(blocks)

    async def readany(self) -> bytes:
        return self.blocks.pop(0) if self.blocks else b""


async def _events(blocks: list[bytes]) -> list[tuple[str, str]]:
    reader = SseReader(_Body(blocks))  # type: ignore[arg-type]
    events: list[tuple[str, str]] = []
    while (got := await reader.read()) is not None:
        events += got
    assert await reader.read() is None  # stays ended
    return events


def _cut(body: bytes, rng: random.Random) -> list[bytes]:
    cuts = sorted(rng.sample(range(1, len(body)), min(len(body) - 1, rng.randint(0, 12)))) if len(body) > 1 else []
    edges = [0, *cuts, len(body)]
    return [body[a:b] for a, b in zip(edges, edges[1:], strict=False) if b > a]


class _ReferenceParser:
    """The SSE field rules, one line at a time, written plainly: the reference the reader must match."""

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
        value = value.removeprefix(" ")
        if field == "data":
            self.data.append(value)
        elif field == "event":
            self.event = value
        return None


def _line_at_a_time(body: bytes) -> list[tuple[str, str]]:
    """The reference: every line through ``_ReferenceParser.line``."""
    parser, events = _ReferenceParser(), []
    *lines, rest = body.split(b"\n")
    for raw in lines:
        if (done := parser.line(raw)) is not None:
            events.append(done)
    if rest:
        parser.line(rest)
    if parser.data:
        events.append((parser.event or "message", "\n".join(parser.data)))
    return events


BODIES = {
    "openai": b'data: {"a": 1}\n\ndata: {"b": "\xc3\xa9t\xc3\xa9 \xe2\x82\xac"}\n\ndata: [DONE]\n\n',
    "anthropic": b"event: message_start\ndata: {\"x\": 1}\n\nevent: ping\ndata: {}\n\nevent: message_stop\ndata: {}\n\n",
    "crlf": b"event: e\r\ndata: one\r\n\r\ndata: two\r\r\n\r\n",
    "multiline": b"data: first\ndata: second\ndata\ndata:no space\ndata:  two spaces\n\n",
    "comments_and_other_fields": b": keep-alive\nid: 7\nretry: 10\nevent\ndata: x\nfoo: bar\n\n:\n\n",
    "event_without_data": b"event: lonely\n\nevent: e\ndata: d\n\n\n\n",
    "no_final_blank_line": b"data: a\n\ndata: unfinished",
    "ends_after_data_line": b"event: last\ndata: b\n",
    "colon_in_value": b"data: a: b: c\nevent: x:y\n\n",
}


@pytest.mark.parametrize("name", sorted(BODIES))
async def test_events_do_not_depend_on_how_the_body_is_cut(name: str) -> None:
    body = BODIES[name]
    whole = await _events([body])
    assert whole == _line_at_a_time(body)
    rng = random.Random(name)
    for _ in range(200):
        assert await _events(_cut(body, rng)) == whole
    assert await _events([body[i:i + 1] for i in range(len(body))]) == whole  # a byte per read


@pytest.mark.parametrize("name", sorted(BODIES))
async def test_a_read_per_event_or_per_line_gives_the_same_events(name: str) -> None:
    body = BODIES[name]
    per_event = [e + b"\n\n" for e in body.split(b"\n\n")]
    per_event[-1] = per_event[-1][:-2]
    per_line = [line + b"\n" for line in body.split(b"\n")]
    per_line[-1] = per_line[-1][:-1]
    assert b"".join(per_event) == body == b"".join(per_line)
    whole = await _events([body])
    assert await _events([r for r in per_event if r]) == whole
    assert await _events([r for r in per_line if r]) == whole


async def test_an_event_name_read_before_its_data_still_names_it() -> None:
    reads = [b"event: delta\n", b"data: one\n\n", b"data: two\n\n", b"data: 3a\n", b"data: 3b\n\n",
             b"data: four\r\n\n", b"data: \n\n"]
    assert await _events(reads) == [("delta", "one"), ("message", "two"), ("message", "3a\n3b"),
                                    ("message", "four"), ("message", "")]


async def test_the_fields_are_read_as_the_spec_says() -> None:
    assert await _events([BODIES["anthropic"]]) == [
        ("message_start", '{"x": 1}'), ("ping", "{}"), ("message_stop", "{}")]
    assert await _events([BODIES["crlf"]]) == [("e", "one"), ("message", "two")]
    assert await _events([BODIES["multiline"]]) == [("message", "first\nsecond\n\nno space\n two spaces")]
    assert await _events([BODIES["comments_and_other_fields"]]) == [("message", "x")]
    assert await _events([BODIES["event_without_data"]]) == [("e", "d")]
    assert await _events([BODIES["no_final_blank_line"]]) == [("message", "a"), ("message", "unfinished")]
    assert (await _events([BODIES["openai"]]))[1] == ("message", '{"b": "été €"}')


async def test_random_streams_match_the_line_at_a_time_parser() -> None:
    rng = random.Random(0)
    pieces = [b"data: ", b"data:", b"data", b"event: ", b"event:e", b": c", b"id: 1", b"x", b" y", b"\xc3\xa9",
              b":", b"\r", b"\n", b"\n", b"\n", b"\r\n"]
    for _ in range(400):
        body = b"".join(rng.choice(pieces) for _ in range(rng.randint(1, 40)))
        assert await _events(_cut(body, rng)) == _line_at_a_time(body), body


async def test_a_body_that_is_not_utf8_is_an_error() -> None:
    with pytest.raises(UnicodeDecodeError):
        await _events([b"data: \xff\xfe\n\n"])
