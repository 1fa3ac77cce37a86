"""A fast mock OpenAI chat-completions upstream for the overhead benchmark.

A raw asyncio protocol on uvloop with httptools parsing (the same C parser uvicorn uses),
answering every POST with a canned completion or, when the body asks for ``"stream": true``,
a canned SSE stream sent one event per write. No framework, no routing: it is meant to cost
a few tens of microseconds per request so that it never dominates the measurement.

Run: ``python mock_upstream.py --port 9000 [--chunks 16]``; prints ``ready`` when listening.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from typing import cast

import httptools
import orjson
import uvloop

WORDS = ("The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", ".")
PROMPT_TOKENS = 24


def completion_body(tokens: int) -> bytes:
    text = "".join(WORDS[i % len(WORDS)] for i in range(tokens))
    return orjson.dumps({
        "id": "chatcmpl-bench", "object": "chat.completion", "created": 1700000000, "model": "bench-upstream",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "logprobs": None,
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": PROMPT_TOKENS, "completion_tokens": tokens, "total_tokens": PROMPT_TOKENS + tokens},
    })


def stream_events(tokens: int, include_usage: bool) -> list[bytes]:
    """The SSE events of one streamed answer, as vLLM sends them: role, one chunk per token, finish, usage."""
    base = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1700000000, "model": "bench-upstream"}

    def chunk(delta: dict[str, str], finish: str | None = None) -> dict[str, object]:
        return {**base, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}

    chunks: list[dict[str, object]] = [chunk({"role": "assistant", "content": ""})]
    chunks += [chunk({"content": WORDS[i % len(WORDS)]}) for i in range(tokens)]
    chunks.append(chunk({}, "stop"))
    if include_usage:
        usage = {"prompt_tokens": PROMPT_TOKENS, "completion_tokens": tokens, "total_tokens": PROMPT_TOKENS + tokens}
        chunks.append({**base, "choices": [], "usage": usage})
    events = [b"data: " + orjson.dumps(c) + b"\n\n" for c in chunks] + [b"data: [DONE]\n\n"]
    return [b"%x\r\n%s\r\n" % (len(e), e) for e in events] + [b"0\r\n\r\n"]


class Responses:
    def __init__(self, tokens: int) -> None:
        body = completion_body(tokens)
        self.json = (
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(body) + body
        )
        head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
        self.stream = {flag: [head + e[0], *e[1:]] for flag, e in
                       ((True, stream_events(tokens, True)), (False, stream_events(tokens, False)))}


class MockProtocol(asyncio.Protocol):
    def __init__(self, responses: Responses) -> None:
        self.responses = responses
        self.parser = httptools.HttpRequestParser(self)
        self.body: list[bytes] = []
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass it

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            assert self.transport is not None
            self.transport.write(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            self.transport.close()

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        assert self.transport is not None
        raw = b"".join(self.body)
        self.body.clear()
        request = orjson.loads(raw) if raw else {}
        if request.get("stream"):
            usage = bool((request.get("stream_options") or {}).get("include_usage"))
            for piece in self.responses.stream[usage]:
                self.transport.write(piece)
        else:
            self.transport.write(self.responses.json)


async def serve(host: str, port: int, tokens: int) -> None:
    loop = asyncio.get_running_loop()
    responses = Responses(tokens)
    server = await loop.create_server(lambda: MockProtocol(responses), host, port, backlog=1024)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print("ready", flush=True)
    await stop.wait()
    server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tokens", type=int, default=16, help="completion tokens per answer (= content chunks)")
    args = parser.parse_args()
    uvloop.run(serve(args.host, args.port, args.tokens))


if __name__ == "__main__":
    main()
