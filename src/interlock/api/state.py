"""What handlers reach through ``app.state.interlock``: the active runtime and its pipeline, and reloading."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from interlock.config.reload import ConfigReloader
from interlock.config.switch import RuntimeSwitch
from interlock.gateway.pipeline import Pipeline
from interlock.gateway.runtime import Runtime


@dataclass
class AppState:
    switch: RuntimeSwitch
    reloader: ConfigReloader | None = None
    started_at: int = field(default_factory=lambda: int(time.time()))

    @property
    def runtime(self) -> Runtime:
        return self.switch.runtime

    @property
    def pipeline(self) -> Pipeline:
        """Read once per request: a request finishes on the config it started with."""
        return self.switch.pipeline
