"""Config: strict pydantic models, loading with path-named errors, and the embedded default."""

from interlock.config.load import ConfigError, LoadedConfig, load_config, parse_config
from interlock.config.schema import Alias, GatewayConfig, ServerSettings

__all__ = ["Alias", "ConfigError", "GatewayConfig", "LoadedConfig", "ServerSettings", "load_config", "parse_config"]
