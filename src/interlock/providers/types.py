"""The provider types: every deployment ``type`` once, with what the rest of the gateway needs to know.

``build_provider`` imports a type's module on first use (so the embedded model's heavy imports stay
lazy); config error paths, trace attributes, the CLI and the balancer read the other columns here.
The config models in ``config.deployments`` keep one ``Literal`` per type for pydantic's
discriminated union; a test holds them equal to this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ProviderType:
    name: str  # the deployment config's ``type``
    module: str  # registers the provider class (``providers.registry.register``) when imported
    system: str  # gen_ai.provider.name in traces (the conventions' well-known value)
    default_concurrency: int  # requests served at once when the config says nothing (balancing, spill-over)
    in_process: bool  # runs inside the gateway process, answering one request at a time


PROVIDER_TYPES: dict[str, ProviderType] = {
    t.name: t
    for t in (
        ProviderType("openai", "interlock.providers.openai_compat", "openai", 64, in_process=False),
        ProviderType("anthropic", "interlock.providers.anthropic", "anthropic", 64, in_process=False),
        ProviderType("llamacpp", "interlock.providers.llamacpp", "llama.cpp", 1, in_process=True),
    )
}


def provider_type(name: str) -> ProviderType:
    try:
        return PROVIDER_TYPES[name]
    except KeyError:
        raise KeyError(f"no provider type {name!r}; known: {sorted(PROVIDER_TYPES)}") from None


def default_concurrency(deployment: Any) -> int:
    """How many requests ``deployment`` serves at once: its ``concurrency``, else its type's default."""
    return int(deployment.concurrency or provider_type(deployment.type).default_concurrency)


def system_name(type_name: str) -> str:
    """The provider's name for traces (``gen_ai.provider.name``); an unknown type passes through."""
    known = PROVIDER_TYPES.get(type_name)
    return known.system if known is not None else type_name
