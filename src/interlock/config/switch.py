"""Swapping the running config: build the new runtime, start it, switch new requests to it, drain the old.

Requests in flight finish on the runtime they started with; the old runtime closes once they have
(or after ``drain_s``). Deployments configured identically carry over with their providers,
health and breaker state (see ``Runtime(previous=...)``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from interlock.config.load import LoadedConfig
from interlock.gateway.runtime import Runtime
from interlock.gateway.pipeline import Pipeline

log = logging.getLogger("interlock.reload")


class RuntimeSwitch:
    def __init__(self, runtime: Runtime, *, drain_s: float = 600.0, say: Callable[[str], None] = log.info) -> None:
        self.runtime = runtime
        self._pipeline: Pipeline | None = None
        self.drain_s = drain_s
        self.say = say
        self._tasks: set[asyncio.Task[None]] = set()
        self.switched = asyncio.Event()

    @property
    def pipeline(self) -> Pipeline:
        """The active runtime's pipeline (built once the runtime has started)."""
        if self._pipeline is None or self._pipeline.runtime is not self.runtime:
            self._pipeline = Pipeline(self.runtime)
        return self._pipeline

    def apply(self, loaded: LoadedConfig) -> None:
        """The reloader's ``apply``: validate by building (raises to reject), then switch in the background."""
        new = Runtime(loaded, previous=self.runtime)
        task = asyncio.get_running_loop().create_task(self._switch(new), name=f"switch-{loaded.hash}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _switch(self, new: Runtime) -> None:
        try:
            await new.start(self.say)
        except Exception:
            log.exception("the new config could not start; the previous one stays in force")
            await new.aclose()
            return
        old = self.runtime
        self.runtime, self._pipeline = new, Pipeline(new)
        self.say(f"config {new.config_hash} is now serving (was {old.config_hash})")
        self.switched.set()
        await self._drain(old)

    async def _drain(self, old: Runtime) -> None:
        waited = 0.0
        while old.in_flight > 0 and waited < self.drain_s:
            await asyncio.sleep(0.05)
            waited += 0.05
        await old.aclose()

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.runtime.aclose()
