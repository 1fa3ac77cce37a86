"""A private gateway for one process: the config's copy with no auth, ledger or shared state, on loopback.

``interlock eval`` measures models through the same providers, resilience and pricing as production
traffic, but on an instance only it talks to, bound to a free 127.0.0.1 port and stopped at the end.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from interlock.config.load import LoadedConfig, config_from_object
from interlock.config.schema import GatewayConfig
from interlock.observability.logging import configure_logging

# The server modules (uvicorn, the app) are imported where used, so other commands start without them.


class GatewayStartFailed(Exception):
    """The private gateway did not come up; the message says why in one line."""


def private_config(loaded: LoadedConfig) -> LoadedConfig:
    """A copy of ``loaded`` for a gateway only this process talks to: no auth, no ledger, no shared Redis."""
    config = loaded.config
    copy = config.model_copy(
        update={
            "server": config.server.model_copy(update={"auth": False}),
            "accounting": config.accounting.model_copy(update={"ledger": False, "redis_url": None}),
        }
    )
    validated = GatewayConfig.model_validate(copy.model_dump())  # the copy passes the same checks as a file
    return config_from_object(validated, source=f"{loaded.source} (private evaluation copy)")


class _StartupWatch:
    """ASGI wrapper that keeps the reason a lifespan startup failed, to report it in one line."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.failure: str | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def watched(message: Any) -> None:
            if message["type"] == "lifespan.startup.failed":
                lines = [line for line in str(message.get("message", "")).splitlines() if line.strip()]
                self.failure = lines[-1].strip() if lines else "startup failed"
            await send(message)

        await self.app(scope, receive, watched)


@contextmanager
def _gateway_errors_only() -> Iterator[None]:
    """While a progress bar owns the terminal, log only the gateway's errors; then restore logging."""
    logger = logging.getLogger("interlock")
    handlers, level, propagate = logger.handlers[:], logger.level, logger.propagate
    configure_logging("ERROR")
    try:
        yield
    finally:
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


@contextmanager
def private_gateway(
    loaded: LoadedConfig, say: Callable[[str], None], timeout_s: float = 900.0
) -> Iterator[str]:
    """Serve ``loaded`` on a free 127.0.0.1 port in a thread; yields the base URL, stops on exit.

    While it runs, only the gateway's errors are logged (a progress bar owns the terminal).
    """
    import uvicorn

    from interlock.api.app import build_app
    from interlock.gateway.runtime import Runtime

    try:
        app = _StartupWatch(build_app(Runtime(loaded), say=say))
    except Exception as exc:  # reported like a failure during startup: one line, not a traceback
        raise GatewayStartFailed(f"{type(exc).__name__}: {exc}") from exc
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))  # bound here and handed to uvicorn, so no other process can take the port
    port = int(sock.getsockname()[1])
    # uvicorn's own logging is silenced: startup failures are reported through _StartupWatch. On exit,
    # requests still in flight (an interrupted run) are cancelled after 5 s, which stops generation.
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical",
                                           access_log=False, timeout_graceful_shutdown=5))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    with _gateway_errors_only():
        try:
            thread.start()
            deadline = time.monotonic() + timeout_s
            while not server.started:
                if not thread.is_alive():
                    raise GatewayStartFailed(app.failure or "the gateway stopped during startup")
                if time.monotonic() > deadline:
                    raise GatewayStartFailed(f"the gateway did not start within {timeout_s:.0f} s")
                time.sleep(0.05)
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join(timeout=30)
            sock.close()
