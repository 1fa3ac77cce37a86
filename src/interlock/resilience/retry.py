"""Retries on the same deployment: retryable failures only, jittered backoff, a retry budget.

``RetryPolicy.delay_before_retry`` is the one decision (used by the fallback chain): it returns how long to wait before the next attempt, or None to stop. It
never retries a client error, an open circuit, a timeout (a deployment that just hung would
most likely hang again: the next deployment is the better bet), a Retry-After longer than
``max_retry_after_s`` (better served by the next deployment) or beyond the budget.
"""

from __future__ import annotations

import random

from pydantic import BaseModel, ConfigDict, Field

from interlock.errors import UpstreamTimeout
from interlock.resilience.budget import RatioBudget
from interlock.resilience.failures import is_retryable


class RetrySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_attempts: int = Field(2, ge=1, description="attempts per deployment, the first included")
    base_delay_s: float = Field(0.1, ge=0)
    max_delay_s: float = Field(2.0, ge=0)
    multiplier: float = Field(2.0, ge=1)
    max_retry_after_s: float = Field(
        5.0, ge=0, description="a longer Retry-After moves on to the next deployment instead of waiting"
    )


class RetryPolicy:
    def __init__(
        self, settings: RetrySettings | None = None, *, budget: RatioBudget | None = None, rng: random.Random
    ) -> None:
        self.settings = settings or RetrySettings()
        self.budget = budget
        self._rng = rng

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential backoff after failed attempt number ``attempt`` (1-based)."""
        s = self.settings
        ceiling = min(s.max_delay_s, s.base_delay_s * s.multiplier ** (attempt - 1))
        return self._rng.uniform(0.0, ceiling)

    def delay_before_retry(self, error: BaseException, attempt: int) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``; None: do not retry here."""
        s = self.settings
        if attempt >= s.max_attempts or not is_retryable(error) or isinstance(error, UpstreamTimeout):
            return None
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None and retry_after > s.max_retry_after_s:
            return None
        if self.budget is not None and not self.budget.try_spend():
            return None
        delay = self.backoff(attempt)
        return max(delay, retry_after) if retry_after is not None else delay
