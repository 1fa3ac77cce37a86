"""A mock OpenAI chat-completions upstream whose latency and failures the benchmark controls.

Each request waits a latency drawn from a lognormal distribution around ``--median-ms`` (its
spread is ``--sigma``, the standard deviation of the log), then either answers (a canned
completion, or a canned SSE stream sent at once) or fails: a ``--fail-rate`` share of requests
fail, a ``--reset-share`` of those with a TCP reset (linger 0) and the rest with a 500 and an
OpenAI error body. Draws come from a seeded RNG, so a run is repeatable for a given arrival order.
Requests are served independently (no queue): a replica here never slows down under load.

It reuses the overhead benchmark's raw asyncio + httptools protocol and canned answers, adding
only the wait and the faults. Run: ``python upstream.py --port 9000 --median-ms 50``; prints
``ready`` when listening.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import signal
import socket
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

import orjson
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "gateway_overhead"))
from mock_upstream import MockProtocol, Responses  # noqa: E402

ERROR_BODY = orjson.dumps({"error": {"message": "injected failure", "type": "server_error", "code": None}})
ERROR_RESPONSE = (
    b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\n"
    b"content-length: %d\r\n\r\n" % len(ERROR_BODY) + ERROR_BODY
)


@dataclass
class Behaviour:
    """What each request gets: a latency and an outcome (``ok``, ``status_500`` or ``reset``)."""

    median_s: float
    sigma: float
    fail_rate: float
    reset_share: float
    rng: random.Random

    def draw(self) -> tuple[float, str]:
        delay = self.median_s * math.exp(self.sigma * self.rng.gauss(0.0, 1.0))
        if self.rng.random() >= self.fail_rate:
            return delay, "ok"
        return delay, "reset" if self.rng.random() < self.reset_share else "status_500"


class DelayedProtocol(MockProtocol):
    """The overhead benchmark's protocol, answering after a drawn delay, or failing."""

    def __init__(self, responses: Responses, behaviour: Behaviour) -> None:
        super().__init__(responses)
        self.behaviour = behaviour

    def on_message_complete(self) -> None:
        raw = b"".join(self.body)
        self.body.clear()
        request = orjson.loads(raw) if raw else {}
        delay, outcome = self.behaviour.draw()
        asyncio.get_running_loop().call_later(delay, self._answer, request, outcome)

    def _answer(self, request: dict[str, object], outcome: str) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return  # the client gave up (a hedge that lost): nothing to answer
        if outcome == "reset":
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        elif outcome == "status_500":
            transport.write(ERROR_RESPONSE)
        elif request.get("stream"):
            options = request.get("stream_options") or {}
            usage = bool(options.get("include_usage"))  # type: ignore[union-attr]
            for piece in self.responses.stream[usage]:
                transport.write(piece)
        else:
            transport.write(self.responses.json)


async def serve(host: str, port: int, behaviour: Behaviour, tokens: int) -> None:
    loop = asyncio.get_running_loop()
    responses = Responses(tokens)
    server = await loop.create_server(lambda: DelayedProtocol(responses, behaviour), host, port, backlog=1024)
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
    parser.add_argument("--median-ms", type=float, required=True, help="median latency of an answer")
    parser.add_argument("--sigma", type=float, default=0.5, help="standard deviation of log(latency)")
    parser.add_argument("--fail-rate", type=float, default=0.0, help="share of requests that fail")
    parser.add_argument("--reset-share", type=float, default=0.5,
                        help="share of failures that are TCP resets")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tokens", type=int, default=16, help="completion tokens per answer")
    args = parser.parse_args()
    behaviour = Behaviour(args.median_ms / 1000, args.sigma, args.fail_rate, args.reset_share,
                          random.Random(args.seed))
    uvloop.run(serve(args.host, args.port, behaviour, args.tokens))


if __name__ == "__main__":
    main()
