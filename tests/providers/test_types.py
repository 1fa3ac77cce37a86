"""The one provider-type table agrees with the config models and serves every built-in type."""

from __future__ import annotations

import typing

import pytest

from interlock.config.deployments import Deployment
from interlock.providers.registry import _FACTORIES, build_provider
from interlock.providers.types import PROVIDER_TYPES, default_concurrency, provider_type, system_name


def _config_types() -> set[str]:
    union = typing.get_args(Deployment)[0]
    return {typing.get_args(model.model_fields["type"].annotation)[0] for model in typing.get_args(union)}


def test_the_table_and_the_config_union_name_the_same_types() -> None:
    assert set(PROVIDER_TYPES) == _config_types()


def test_each_types_module_registers_its_provider() -> None:
    import importlib

    for t in PROVIDER_TYPES.values():
        importlib.import_module(t.module)
        assert t.name in _FACTORIES, f"{t.module} does not register {t.name!r}"


def test_default_concurrency_and_trace_names() -> None:
    class D:
        def __init__(self, type: str, concurrency: int | None) -> None:
            self.type, self.concurrency = type, concurrency

    assert default_concurrency(D("llamacpp", None)) == 1
    assert default_concurrency(D("openai", None)) == 64
    assert default_concurrency(D("anthropic", 8)) == 8
    assert system_name("llamacpp") == "llama.cpp" and system_name("custom") == "custom"
    with pytest.raises(KeyError, match="known"):
        provider_type("nope")


def test_an_unknown_type_is_refused_by_name() -> None:
    class D:
        type = "nope"

    with pytest.raises(KeyError, match="nope"):
        build_provider(D())
