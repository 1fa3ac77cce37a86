"""Closed-loop load of a fixed number of requests: ``concurrency`` workers, each sending the next
request when its previous one has finished, until ``count`` requests are done.

Every request is recorded: latency (send to last byte), whether it succeeded (HTTP 200 and, for a
stream, a ``data: [DONE]`` with no error event before it), and the gateway's
``x-interlock-attempts`` header, which says which deployment served it and whether a hedge ran.
Unlike the overhead benchmark's load generator (fixed duration, fastest possible client), this one
counts requests and keeps per-request detail; at the rates here (tens to a few hundred requests
per second) its own cost does not matter.
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "gateway_overhead"))
from loadgen import percentile  # noqa: E402


@dataclass(slots=True)
class Outcome:
    index: int
    latency_s: float
    ok: bool
    status: int  # 0: no HTTP answer (connection error)
    attempts: str  # the x-interlock-attempts header ("" when absent, e.g. direct to an upstream)
    error: str = ""

    @property
    def served_by(self) -> str:
        """The deployment of the attempt that succeeded, from the attempts header."""
        for item in self.attempts.split(", "):
            if ";outcome=ok" in item:
                return item.split(";", 1)[0]
        return ""

    @property
    def hedged(self) -> bool:
        return ";hedge" in self.attempts

    @property
    def tries(self) -> int:
        return len(self.attempts.split(", ")) if self.attempts else 1


async def _one(session: aiohttp.ClientSession, url: str, body: bytes, stream: bool, index: int) -> Outcome:
    start = time.perf_counter()
    try:
        async with session.post(url, data=body, headers={"content-type": "application/json"}) as resp:
            payload = await resp.read()
            attempts = resp.headers.get("x-interlock-attempts", "")
            status = resp.status
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        return Outcome(index, time.perf_counter() - start, False, 0, "", f"{type(exc).__name__}: {exc}")
    latency = time.perf_counter() - start
    error = ""
    if status != 200:
        error = f"HTTP {status}: {payload[:200]!r}"
    elif stream and (b"data: [DONE]" not in payload[-64:] or b'"error"' in payload):
        error = f"stream without a clean end: {payload[-200:]!r}"
    elif not stream and b'"choices"' not in payload:
        error = f"answer without choices: {payload[:200]!r}"
    return Outcome(index, latency, not error, status, attempts, error)


async def run(url: str, body: bytes, *, count: int, concurrency: int, stream: bool = False,
              first_index: int = 0, timeout_s: float = 60.0) -> list[Outcome]:
    """Send ``count`` requests with ``concurrency`` in flight; outcomes in completion order."""
    outcomes: list[Outcome] = []
    next_index = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal next_index
        while next_index < count:
            index = first_index + next_index
            next_index += 1
            outcomes.append(await _one(session, url, body, stream, index))

    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return outcomes


def percentile_ms(outcomes: list[Outcome], q: float) -> float:
    """Nearest-rank percentile of the latencies, in milliseconds."""
    return percentile(sorted(o.latency_s * 1000 for o in outcomes), q)
