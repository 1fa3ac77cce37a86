"""Starting a real gateway (uvicorn on 127.0.0.1) from a config dict, for end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from servers import serve_in_thread

from interlock.api.app import build_app
from interlock.config.load import config_from_object, load_config
from interlock.config.schema import GatewayConfig
from interlock.gateway.runtime import Runtime


def openai_deployment(name: str, base_url: str, model: str | None = None, **over: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "name": name, "type": "openai", "model": model or name, "vendor": "test", "perimeter": "external",
        "context_window": 8192, "base_url": base_url + "/v1",
        "capabilities": {"tools": True, "json_output": True, "multiple_choices": True, "embeddings": True},
        "price": {"type": "per_token", "input_per_mtok": 1.0, "output_per_mtok": 2.0},
    }
    d.update(over)
    return d


def with_test_defaults(config: dict[str, Any], tmp_dir: str | None = None) -> dict[str, Any]:
    """Unless the config says otherwise: no auth, ledger and audit log in throwaway SQLite files."""
    config = {**config}
    config.setdefault("server", {}).setdefault("auth", False)
    accounting = config.setdefault("accounting", {})
    if "database_url" not in accounting:
        accounting["database_url"] = str(Path(tmp_dir or tempfile.mkdtemp(prefix="interlock-test-")) / "gw.db")
    if "audit_log" not in config:
        config["audit_log"] = str(Path(accounting["database_url"]).with_name("audit.db"))
    return config


@contextmanager
def running_gateway(config: dict[str, Any], tmp_dir: str | None = None) -> Iterator[tuple[str, Runtime]]:
    """Serve ``config`` (with the test defaults above) on a free loopback port."""
    loaded = config_from_object(GatewayConfig.model_validate(with_test_defaults(config, tmp_dir)), source="<test>")
    runtime = Runtime(loaded)
    with serve_in_thread(build_app(runtime)) as url:
        yield url, runtime


@contextmanager
def gateway_from_file(path: Path) -> Iterator[str]:
    """Serve the config file at ``path`` with hot reload on, as ``interlock serve --config`` does."""
    runtime = Runtime(load_config(path))
    with serve_in_thread(build_app(runtime, config_path=path)) as url:
        yield url
