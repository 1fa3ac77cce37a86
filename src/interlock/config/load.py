"""Reading a config file: YAML in, validated ``GatewayConfig`` out, or every error with its path and line."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import yaml
from pydantic import ValidationError

from interlock.config.schema import GatewayConfig
from interlock.config.substitution import substitute_environment
from interlock.providers.types import PROVIDER_TYPES

# Discriminator values pydantic inserts into error paths; the file has no such level.
_UNION_TAGS = set(PROVIDER_TYPES) | {"per_token", "gpu_hour", "unknown", "catalog"}


class ConfigError(Exception):
    """The config is invalid; ``problems`` holds one ``path: message`` line per error."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: invalid config\n" + "\n".join(f"  {p}" for p in problems))


@dataclass(frozen=True)
class LoadedConfig:
    config: GatewayConfig
    hash: str  # covers the routing policy file too: a decision traces to the policy that made it
    source: str
    policy: Any = None  # the validated ``routing.policy`` (a ``LoadedPolicy``), when one is set


def policy_path(config: GatewayConfig, source: str) -> Path | None:
    """``routing.policy``, relative to the config file's folder."""
    if config.routing.policy is None:
        return None
    path = Path(config.routing.policy).expanduser()
    return path if path.is_absolute() or source.startswith("<") else Path(source).parent / path


def _with_policy(config: GatewayConfig, source: str) -> LoadedConfig:
    # routing.policy_file reads ConfigError from this module, so it is imported here, not at the top
    from interlock.routing.policy_file import load_policy

    path = policy_path(config, source)
    if path is None:
        return LoadedConfig(config=config, hash=canonical_hash(config), source=source)
    try:
        loaded = load_policy(path)
    except ConfigError as exc:
        raise ConfigError(source, [f"routing.policy: {p}" for p in [f"{exc.source}:"] + exc.problems]) from None
    missing = sorted(loaded.policy.models - {d.model for d in config.deployments} - {a.name for a in config.aliases})
    if missing:
        raise ConfigError(source, [f"routing.policy: {path} routes to models this config does not serve: "
                                   f"{', '.join(missing)} (add deployments for them, or recalibrate on these models)"])
    digest = hashlib.sha256(f"{canonical_hash(config)}:{loaded.sha256}".encode()).hexdigest()[:16]
    return LoadedConfig(config=config, hash=digest, source=source, policy=loaded)


def format_path(loc: tuple[Any, ...]) -> str:
    """``('deployments', 2, 'openai', 'price', 'input_per_mtok')`` -> ``deployments[2].price.input_per_mtok``."""
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in _UNION_TAGS and i > 0 and (isinstance(loc[i - 1], int) or loc[i - 1] == "price"):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """Follow ``loc`` through the YAML node tree to find the line of the offending value."""
    line = None
    for part in loc:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            child = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
            if child is None and part in _UNION_TAGS:
                continue  # the discriminator level exists only in pydantic's path
            node = child
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if part < len(node.value) else None
        else:
            continue
    if node is not None:
        line = node.start_mark.line + 1
    return line


def canonical_hash(config: GatewayConfig) -> str:
    """Hash of the canonical (validated, defaults filled, key-sorted) config; logged with every request."""
    data = config.model_dump(mode="json")
    return hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


def parse_config(text: str, source: str = "<config>", environ: Mapping[str, str] | None = None) -> LoadedConfig:
    """Validate ``text``; ``${VAR}`` placeholders are filled from ``environ`` (default: the process's)."""
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(source, [f"not valid YAML: {exc}"]) from None
    if not isinstance(data, dict):
        raise ConfigError(source, ["(top level): must be a mapping with `deployments`"])
    filled = substitute_environment(data, os.environ if environ is None else environ)
    if filled.problems:
        raise ConfigError(source, [f"{_where(node, loc)}{format_path(loc)}: {msg}" for loc, msg in filled.problems])
    config = _validate(filled.values, node, source)
    if not filled.secret_substituted:
        return _with_policy(config, source)
    # the hash comes from the config as written where secrets were filled in (see config/substitution.py)
    loaded = _with_policy(config, source)
    hashed = _with_policy(_validate(filled.hashed, node, source), source)
    return LoadedConfig(config=config, hash=hashed.hash, source=source, policy=loaded.policy)


def _where(node: yaml.Node | None, loc: tuple[Any, ...]) -> str:
    line = _line_of(node, loc)
    return f"line {line}: " if line else ""


def _validate(data: dict[str, Any], node: yaml.Node | None, source: str) -> GatewayConfig:
    try:
        return GatewayConfig.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(f"{_where(node, loc)}{format_path(loc)}: {msg}")
        raise ConfigError(source, problems) from None


def load_config(path: str | Path) -> LoadedConfig:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(p), [f"cannot read: {exc.strerror}"]) from None
    return parse_config(text, source=str(p))


def config_from_object(config: GatewayConfig, source: str) -> LoadedConfig:
    return _with_policy(config, source)
