"""Memory and upstream connections of ``interlock serve`` while clients abandon requests to a hung upstream.

The upstream accepts every request and never answers (``upstream.py`` with a one-hour latency).
Clients send chat requests (half streaming), give up after ``--give-up-ms`` and close their
connection, in batches of ``--batch`` at once. After each batch the gateway's resident memory
(VmRSS) and its open connections to the upstream are sampled. Goal: both flat, whatever the number
of abandoned requests. Run: ``python benchmarks/resilience/bench_abandoned.py`` (about 1 minute);
put another tree's ``src`` first on ``PYTHONPATH`` to measure it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import orjson
from gateway_runs import (
    MODEL,
    Upstream,
    gateway_config,
    load_average,
    machine,
    source_tree,
    start_gateway,
    start_upstream,
)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def open_connections_to(port: int) -> int:
    """Established TCP connections whose remote end is ``port`` on this machine (the gateway's side)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            remote, state = fields[2], fields[3]
            if state == "01" and int(remote.rsplit(":", 1)[1], 16) == port:
                count += 1
    return count


async def abandon(port: int, stream: bool, give_up_s: float) -> None:
    body = orjson.dumps({"model": MODEL, "messages": [{"role": "user", "content": "are you there?"}],
                         "stream": stream, "max_tokens": 16})
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\n"
                 b"content-length: %d\r\n\r\n" % len(body) + body)
    await writer.drain()
    try:
        await asyncio.wait_for(reader.read(1), give_up_s)  # nothing comes: the upstream hangs
    except asyncio.TimeoutError:
        pass
    writer.close()


async def run(
    gateway_port: int, gateway_pid: int, upstream_port: int, args: argparse.Namespace
) -> list[dict[str, float]]:
    samples = []
    sent = 0
    give_up = args.give_up_ms / 1000
    for batch in range(args.requests // args.batch + 1):
        if batch:
            await asyncio.gather(*(abandon(gateway_port, i % 2 == 1, give_up) for i in range(args.batch)))
            sent += args.batch
        await asyncio.sleep(args.settle_ms / 1000)  # let the gateway notice the last clients leave
        samples.append({"abandoned": sent, "rss_mb": rss_mb(gateway_pid),
                        "upstream_connections": open_connections_to(upstream_port)})
        print(f"  {sent:>6} abandoned  rss {samples[-1]['rss_mb']:7.1f} MB  "
              f"upstream connections {samples[-1]['upstream_connections']:>4}", flush=True)
    return samples


def growth_kb_per_request(samples: list[dict[str, float]], skip: int) -> float:
    """Least-squares slope of RSS over abandoned requests, after the first ``skip`` samples (warm-up)."""
    points = [(s["abandoned"], s["rss_mb"] * 1024) for s in samples[skip:]]
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    var = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / var if var else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="abandoned requests in all")
    parser.add_argument("--batch", type=int, default=100, help="clients at once")
    parser.add_argument("--give-up-ms", type=float, default=200.0, help="how long a client waits")
    parser.add_argument("--settle-ms", type=float, default=500.0, help="pause before each sample")
    parser.add_argument("--warmup-samples", type=int, default=3, help="samples left out of the slope")
    parser.add_argument("--json", type=Path, help="write the samples here")
    args = parser.parse_args()
    print(f"{machine()}; load {load_average()}; {source_tree()}")
    with tempfile.TemporaryDirectory(prefix="bench-abandoned-") as tmp_name:
        tmp = Path(tmp_name)
        hung = Upstream("hung", median_ms=3_600_000, sigma=0.0)
        with start_upstream(hung, tmp, seed=0) as upstream:
            config = gateway_config([(hung, upstream.port)], "{}", tmp)
            with start_gateway("abandoned", config, tmp) as gateway:
                started = time.monotonic()
                samples = asyncio.run(run(gateway.port, gateway.popen.pid, upstream.port, args))
                elapsed = time.monotonic() - started
    slope = growth_kb_per_request(samples, args.warmup_samples)
    last = samples[-1]
    print(f"{last['abandoned']} abandoned requests in {elapsed:.0f} s: rss {samples[0]['rss_mb']:.1f} -> "
          f"{last['rss_mb']:.1f} MB, growth {slope:.2f} KB per abandoned request after warm-up; "
          f"{last['upstream_connections']} upstream connections still open")
    if args.json:
        args.json.write_text(json.dumps({"samples": samples, "growth_kb_per_request": slope}, indent=1))


if __name__ == "__main__":
    main()
