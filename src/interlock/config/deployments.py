"""Config models for deployments: the common attributes and one model per provider ``type``.

A deployment is one place a model is served (a vLLM replica, a vendor API, the
embedded llama.cpp model). The ``type`` field selects the provider that speaks to it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from interlock.accounting.pricing import PriceSpec


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Capabilities(Strict):
    """What a deployment can do; routing and validation read this, not provider code."""

    chat: bool = Field(True, description="serves chat completions (false for embedding-only deployments)")
    tools: bool = False
    json_output: bool = False
    images: bool = False
    embeddings: bool = False
    multiple_choices: bool = Field(False, description="honours n > 1")
    streaming: bool = True


class Timeouts(Strict):
    """Seconds. ``first_token`` bounds time to the first byte of an answer; ``stall`` the gap between chunks."""

    connect: float = Field(5.0, gt=0)
    first_token: float | None = Field(None, gt=0)
    stall: float | None = Field(None, gt=0)
    total: float = Field(300.0, gt=0)


class DeploymentBase(Strict):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@/-]*$")
    model: str = Field(min_length=1, description="the catalog model name clients ask for")
    version: str | None = None
    vendor: str = Field(min_length=1)
    open_weight: bool = False
    perimeter: Literal["internal", "external"]
    region: str | None = None
    retention: str = Field("unlimited", pattern=r"^(none|unlimited|[0-9]+d)$",
                           description="how long the provider keeps data: none | <N>d | unlimited")
    agreements: list[str] = Field([], description="agreements held with the provider, e.g. hipaa_baa, gdpr_dpa")
    context_window: int = Field(gt=0)
    max_output_tokens: int | None = Field(None, gt=0)
    weights_sha256: str | None = Field(
        None, pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the weight file a self-hosted engine serves"
    )
    concurrency: int | None = Field(
        None, gt=0, description="requests served at once (the engine's batch); default 64 over HTTP, 1 embedded"
    )
    capabilities: Capabilities = Capabilities()
    price: PriceSpec = Field(description="per_token, gpu_hour, catalog, or an explicit `type: unknown`")
    timeouts: Timeouts = Timeouts()


class HttpDeployment(DeploymentBase):
    """What every deployment reached over HTTP has: where, which model id, which key, which headers."""

    base_url: str = Field(pattern=r"^https?://")
    upstream_model: str | None = Field(None, description="model id sent upstream; defaults to `model`")
    api_key_env: str | None = Field(None, description="name of the environment variable holding the key")
    headers: dict[str, str] = {}
    max_connections: int = Field(256, gt=0, description="pooled connections to this upstream")

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, v: str) -> str:
        return v.rstrip("/")


class OpenAIDeployment(HttpDeployment):
    """OpenAI itself and every server that speaks its API (vLLM, llama.cpp server, TGI, Ollama, ...)."""

    type: Literal["openai"]


class AnthropicDeployment(HttpDeployment):
    """Anthropic's Messages API."""

    type: Literal["anthropic"]
    base_url: str = Field("https://api.anthropic.com", pattern=r"^https?://")
    api_key_env: str | None = "ANTHROPIC_API_KEY"
    anthropic_version: str = "2023-06-01"
    default_max_tokens: int = Field(4096, gt=0)


class LlamaCppDeployment(DeploymentBase):
    """A GGUF model run in-process by llama.cpp: a file path, or a file shipped in a Python package."""

    type: Literal["llamacpp"]
    gguf_path: str | None = None
    package: str | None = Field(None, description="Python package that ships the GGUF file")
    file: str | None = Field(None, description="GGUF file name inside `package`")
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$", description="pinned digest; a mismatch refuses to load")
    n_ctx: int = Field(2048, gt=0)
    n_threads: int | None = Field(None, gt=0)
    max_queue: int = Field(8, ge=0, description="requests that may wait for the model; more get 503")
    chat_format: str | None = None

    @field_validator("file")
    @classmethod
    def _file_needs_package(cls, v: str | None) -> str | None:
        return v


Deployment = Annotated[
    OpenAIDeployment | AnthropicDeployment | LlamaCppDeployment,
    Field(discriminator="type"),
]
