"""The running state built from one config: catalog, one provider per deployment, metrics."""

from __future__ import annotations

import logging
from collections.abc import Callable

from interlock.catalog import Catalog
from interlock.config.load import LoadedConfig
from interlock.observability.metrics import GatewayMetrics
from interlock.providers.base import Provider
from interlock.providers.registry import build_provider

log = logging.getLogger("interlock.runtime")


class Runtime:
    def __init__(self, loaded: LoadedConfig, metrics: GatewayMetrics | None = None) -> None:
        self.loaded = loaded
        self.config = loaded.config
        self.config_hash = loaded.hash
        self.catalog = Catalog(loaded.config)
        self.metrics = metrics or GatewayMetrics()
        self.providers: dict[str, Provider] = {d.name: build_provider(d) for d in loaded.config.deployments}
        self.ready = False

    async def start(self, say: Callable[[str], None] = lambda _m: None) -> None:
        """Warm providers that load weights (the embedded model), reporting progress through ``say``."""
        for name, provider in self.providers.items():
            start = getattr(provider, "start", None)
            if start is not None:
                say(f"loading {name} ...")
                await start()
                digest = getattr(provider, "digest", None)
                say(f"loaded {name}" + (f" (sha256 {digest[:16]}...)" if digest else ""))
        self.ready = True

    async def aclose(self) -> None:
        for provider in self.providers.values():
            try:
                await provider.aclose()
            except Exception:  # closing must not stop the others from closing
                log.exception("closing a provider failed")
