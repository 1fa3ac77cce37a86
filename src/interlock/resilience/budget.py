"""A ratio budget: extra work (retries, hedges) capped at a share of recent requests.

Over a rolling ``window_s`` the budget allows ``ratio * requests + min_per_window`` spends;
``min_per_window`` lets a quiet deployment still retry. Under a full outage every first
attempt fails, so retries stay at about ``ratio`` of traffic instead of multiplying it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from interlock.resilience.clock import Clock
from interlock.resilience.window import WindowCounter


class BudgetSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    ratio: float = Field(0.2, ge=0, le=1, description="extra attempts as a share of requests")
    min_per_window: int = Field(3, ge=0, description="extra attempts always allowed per window")
    window_s: float = Field(10.0, gt=0)


class RatioBudget:
    def __init__(self, clock: Clock, settings: BudgetSettings | None = None) -> None:
        self.settings = settings or BudgetSettings()
        self._window = WindowCounter(clock, self.settings.window_s)

    def record_request(self) -> None:
        self._window.add("request")

    def available(self) -> float:
        s = self.settings
        allowed = s.ratio * self._window.count("request") + s.min_per_window
        return allowed - self._window.count("spent")

    def try_spend(self) -> bool:
        """Take one unit if the budget has it; False means do not retry/hedge now."""
        if self.available() < 1:
            self._window.add("refused")
            return False
        self._window.add("spent")
        return True

    def refused(self) -> int:
        return self._window.count("refused")

    def spent(self) -> int:
        return self._window.count("spent")
