"""Rolling time windows over an injected clock: event counts and recent samples.

Shared by health (error rate, latency percentiles), the breaker (error-rate trip) and the
budgets (retries and hedges as a share of requests). Counts are kept in fixed buckets so
memory stays bounded at any request rate.
"""

from __future__ import annotations

import math
from collections import deque

from interlock.resilience.clock import Clock


class WindowCounter:
    """Counts of named events over the last ``window_s`` seconds, in ``buckets`` slices."""

    def __init__(self, clock: Clock, window_s: float, buckets: int = 10) -> None:
        if window_s <= 0 or buckets <= 0:
            raise ValueError("window_s and buckets must be positive")
        self._clock = clock
        self._slice = window_s / buckets
        self._buckets: deque[tuple[int, dict[str, int]]] = deque()
        self._n = buckets

    def add(self, event: str, count: int = 1) -> None:
        index = self._index()
        buckets = self._buckets
        if not buckets or buckets[-1][0] != index:
            self._expire(index)
            buckets.append((index, {}))
        counts = buckets[-1][1]
        counts[event] = counts.get(event, 0) + count

    def count(self, event: str) -> int:
        self._expire(self._index())
        return sum(c.get(event, 0) for _, c in self._buckets)

    def reset(self) -> None:
        self._buckets.clear()

    def _index(self) -> int:
        return math.floor(self._clock.now() / self._slice)

    def _expire(self, index: int) -> None:
        while self._buckets and self._buckets[0][0] <= index - self._n:
            self._buckets.popleft()


class SampleWindow:
    """Recent samples (at most ``max_samples``, none older than ``window_s``); percentiles on read."""

    def __init__(self, clock: Clock, window_s: float, max_samples: int = 512) -> None:
        self._clock = clock
        self._window_s = window_s
        self._samples: deque[tuple[float, float]] = deque(maxlen=max_samples)
        self._sorted: list[float] | None = None

    def add(self, value: float) -> None:
        self._samples.append((self._clock.now(), value))
        self._sorted = None

    def __len__(self) -> int:
        self._expire()
        return len(self._samples)

    def percentile(self, q: float) -> float | None:
        """Nearest-rank percentile, ``q`` in [0, 100]; None without samples."""
        self._expire()
        if not self._samples:
            return None
        if self._sorted is None:
            self._sorted = sorted(v for _, v in self._samples)
        rank = max(1, math.ceil(q / 100.0 * len(self._sorted)))
        return self._sorted[rank - 1]

    def _expire(self) -> None:
        horizon = self._clock.now() - self._window_s
        while self._samples and self._samples[0][0] < horizon:
            self._samples.popleft()
            self._sorted = None


class Ewma:
    """Exponentially weighted moving average; the first sample seeds it."""

    def __init__(self, alpha: float) -> None:
        if not 0 < alpha <= 1:
            raise ValueError("alpha must be in (0, 1]")
        self.alpha = alpha
        self.value: float | None = None

    def add(self, sample: float) -> None:
        self.value = sample if self.value is None else self.value + self.alpha * (sample - self.value)
