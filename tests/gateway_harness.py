"""Starting a real gateway (uvicorn on 127.0.0.1) from a config dict, for end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from servers import serve_in_thread

from interlock.api.app import build_app
from interlock.config.load import config_from_object
from interlock.config.schema import GatewayConfig
from interlock.gateway.runtime import Runtime


def openai_deployment(name: str, base_url: str, model: str | None = None, **over: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "name": name, "type": "openai", "model": model or name, "vendor": "test", "perimeter": "external",
        "context_window": 8192, "base_url": base_url + "/v1",
        "capabilities": {"tools": True, "json_output": True, "multiple_choices": True, "embeddings": True},
    }
    d.update(over)
    return d


@contextmanager
def running_gateway(config: dict[str, Any]) -> Iterator[tuple[str, Runtime]]:
    loaded = config_from_object(GatewayConfig.model_validate(config), source="<test>")
    runtime = Runtime(loaded)
    with serve_in_thread(build_app(runtime)) as url:
        yield url, runtime
