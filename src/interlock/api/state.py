"""What handlers reach through ``app.state.interlock``: the runtime and the gateway core."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from interlock.gateway.runtime import Runtime
from interlock.gateway.service import Gateway


@dataclass
class AppState:
    runtime: Runtime
    gateway: Gateway
    started_at: int = field(default_factory=lambda: int(time.time()))
