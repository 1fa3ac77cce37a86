"""A closed-loop HTTP/1.1 load generator with exact concurrency, for the overhead benchmark.

``concurrency`` keep-alive connections each send one request, wait for the whole response
(for a stream: through the final chunk), and send the next; nothing is pipelined, so exactly
``concurrency`` requests are in flight. Raw asyncio protocols on uvloop with httptools
parsing keep the generator's own cost per request small.

After a warm-up, it measures for ``duration`` seconds: completions, latency of each
(send of the first byte to the last byte received), and the CPU time (utime+stime from
``/proc/<pid>/stat``) that the watched processes spent in exactly that window.
Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import time
from typing import Any, cast

import httptools
import orjson
import uvloop

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process, in seconds (from /proc/<pid>/stat; 1/CLK_TCK resolution); None
    once it has exited (a server may replace a helper process during a run)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except FileNotFoundError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def self_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Run:
    """Shared state of one run: the window, the latencies inside it and the failures."""

    def __init__(self, request: bytes, expect_stream: bool) -> None:
        self.request = request
        self.expect_stream = expect_stream
        self.measuring = False
        self.stopping = False
        self.latencies_ns: list[int] = []
        self.completed = 0
        self.failures: list[str] = []
        self.idle = 0


class Connection(asyncio.Protocol):
    def __init__(self, run: Run, all_idle: asyncio.Event, total: int) -> None:
        self.run = run
        self.all_idle = all_idle
        self.total = total
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.sent_ns = 0
        self.tail = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass it

    def send(self) -> None:
        assert self.transport is not None
        self.tail = b""
        self.sent_ns = time.perf_counter_ns()
        self.transport.write(self.run.request)

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_body(self, body: bytes) -> None:
        if self.run.expect_stream:
            self.tail = (self.tail + body)[-64:]

    def on_message_complete(self) -> None:
        run = self.run
        elapsed = time.perf_counter_ns() - self.sent_ns
        status = self.parser.get_status_code()
        if status != 200:
            run.failures.append(f"HTTP {status}")
        elif run.expect_stream and b"data: [DONE]" not in self.tail:
            run.failures.append("stream without [DONE]")
        if run.measuring:
            run.latencies_ns.append(elapsed)
            run.completed += 1
        if run.stopping:
            run.idle += 1
            if run.idle == self.total:
                self.all_idle.set()
            return
        self.send()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.run.stopping:
            self.run.failures.append(f"connection lost: {exc!r}")


def percentile(sorted_values: list[int], q: float) -> float:
    """Nearest-rank percentile."""
    if not sorted_values:
        return float("nan")
    rank = max(1, round(q / 100 * len(sorted_values)))
    return float(sorted_values[min(rank, len(sorted_values)) - 1])


async def measure(
    host: str, port: int, path: str, body: bytes, stream: bool, concurrency: int, warmup: float,
    duration: float, watch: dict[str, int],
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    request = (
        f"POST {path} HTTP/1.1\r\nhost: {host}:{port}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    ).encode() + body
    run = Run(request, expect_stream=stream)
    all_idle = asyncio.Event()
    conns: list[Connection] = []
    for _ in range(concurrency):
        _, conn = await loop.create_connection(lambda: Connection(run, all_idle, concurrency), host, port)
        conns.append(conn)
    for conn in conns:
        conn.send()
    await asyncio.sleep(warmup)
    cpu_before = {name: cpu_seconds(pid) for name, pid in watch.items()}
    self_before = self_cpu_seconds()
    run.measuring = True
    start = time.perf_counter()
    await asyncio.sleep(duration)
    run.measuring = False
    elapsed = time.perf_counter() - start
    cpu_after = {name: cpu_seconds(pid) for name, pid in watch.items()}
    self_after = self_cpu_seconds()
    run.stopping = True
    try:
        await asyncio.wait_for(all_idle.wait(), timeout=30)
    finally:
        for conn in conns:
            assert conn.transport is not None
            conn.transport.close()
    lat = sorted(run.latencies_ns)
    n = run.completed
    # a process that was not there at both ends of the window is left out, and named
    gone = sorted(name for name in watch if cpu_before[name] is None or cpu_after[name] is None)
    cpu = {name: cpu_after[name] - cpu_before[name] for name in watch if name not in gone}  # type: ignore[operator]
    cpu["loadgen"] = self_after - self_before
    return {
        "requests": n,
        "seconds": elapsed,
        "rps": n / elapsed,
        "p50_ms": percentile(lat, 50) / 1e6,
        "p99_ms": percentile(lat, 99) / 1e6,
        "mean_ms": (sum(lat) / n / 1e6) if n else float("nan"),
        "cpu_ms_per_request": {name: (s * 1000 / n if n else float("nan")) for name, s in cpu.items()},
        "exited": gone,
        "failures": len(run.failures),
        "first_failure": run.failures[0] if run.failures else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/v1/chat/completions")
    parser.add_argument("--body", required=True, help="JSON request body")
    parser.add_argument("--stream", action="store_true", help="the body asks for a stream: check for [DONE]")
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--watch", action="append", default=[], metavar="NAME=PID",
                        help="a process whose CPU time to measure over the window (repeatable)")
    args = parser.parse_args()
    watch = {name: int(pid) for name, pid in (w.split("=", 1) for w in args.watch)}
    result = uvloop.run(measure(
        args.host, args.port, args.path, args.body.encode(), args.stream, args.concurrency, args.warmup, args.duration, watch,
    ))
    print(orjson.dumps(result).decode())


if __name__ == "__main__":
    main()
