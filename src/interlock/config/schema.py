"""The gateway config file: server settings, deployments and aliases (strict, unknown keys rejected)."""

from __future__ import annotations

from pydantic import Field, model_validator

from interlock.config.deployments import Deployment, LlamaCppDeployment, Strict


class ServerSettings(Strict):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    max_body_bytes: int = Field(4 * 1024 * 1024, gt=0)
    log_prompts: bool = Field(False, description="log prompt and completion text (off: never logged)")
    auth: bool = Field(False, description="require API keys (keys come with the economics work)")


class Alias(Strict):
    name: str = Field(min_length=1)
    target: str = Field(min_length=1, description="a catalog model name")


class GatewayConfig(Strict):
    server: ServerSettings = ServerSettings()
    deployments: list[Deployment] = Field(min_length=1)
    aliases: list[Alias] = []

    @model_validator(mode="after")
    def _names_are_consistent(self) -> "GatewayConfig":
        seen: set[str] = set()
        for d in self.deployments:
            if d.name in seen:
                raise ValueError(f"deployment name {d.name!r} is used twice")
            seen.add(d.name)
            if isinstance(d, LlamaCppDeployment) and not (d.gguf_path or (d.package and d.file)):
                raise ValueError(f"deployment {d.name!r}: set `gguf_path`, or `package` and `file`")
        models = {d.model for d in self.deployments}
        for a in self.aliases:
            if a.name in models:
                raise ValueError(f"alias {a.name!r} hides the model of the same name")
            if a.target not in models:
                raise ValueError(f"alias {a.name!r} points at unknown model {a.target!r}; models: {sorted(models)}")
        return self
