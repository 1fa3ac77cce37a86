"""Small constructors shared by the version-management tests."""

from __future__ import annotations

from interlock.config.deployments import OpenAIDeployment

CONFIG_V1 = """\
server:
  port: 8080
deployments:
  - name: qwen-a
    type: openai
    model: qwen
    version: v1
    vendor: qwen
    perimeter: internal
    context_window: 1000
    base_url: http://127.0.0.1:9/v1
    price: {input_per_mtok: 0.5, output_per_mtok: 1.5}
"""


def deployment(
    name: str,
    model: str,
    version: str | None = None,
    base_url: str = "http://127.0.0.1:9/v1",
    **extra: object,
) -> OpenAIDeployment:
    fields: dict[str, object] = {
        "name": name,
        "type": "openai",
        "model": model,
        "version": version,
        "vendor": "test",
        "perimeter": "internal",
        "context_window": 4096,
        "base_url": base_url,
        "price": {"type": "unknown"},
        **extra,
    }
    return OpenAIDeployment.model_validate(fields)
