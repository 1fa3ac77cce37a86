"""Provider registry keyed by the deployment ``type``; built-ins register exactly like plugins would."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, TypeVar

from interlock.providers.base import Provider
from interlock.providers.types import PROVIDER_TYPES

_FACTORIES: dict[str, Callable[[Any], Provider]] = {}

T = TypeVar("T")


def register(type_name: str) -> Callable[[T], T]:
    def deco(factory: T) -> T:
        _FACTORIES[type_name] = factory  # type: ignore[assignment]
        return factory

    return deco


def build_provider(deployment: Any) -> Provider:
    type_name = deployment.type
    if type_name not in _FACTORIES and type_name in PROVIDER_TYPES:
        importlib.import_module(PROVIDER_TYPES[type_name].module)  # built-ins load on first use
    factory = _FACTORIES.get(type_name)
    if factory is None:
        raise KeyError(f"no provider registered for deployment type {type_name!r}")
    return factory(deployment)
