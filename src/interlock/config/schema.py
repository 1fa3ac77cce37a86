"""The gateway config file: server settings, deployments and aliases (strict, unknown keys rejected)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from interlock.accounting.settings import AccountingSettings
from interlock.compliance.policy import CompliancePolicy
from interlock.config.deployments import Deployment, LlamaCppDeployment, Strict
from interlock.observability.settings import ObservabilitySettings
from interlock.resilience.registry import ResilienceSettings
from interlock.routing.settings import AUTO_ROUTE, RouteSettings, RoutingSettings
from interlock.versions.settings import VersionedAlias as Alias
from interlock.versions.settings import VersionLifecycle, check_versions


class ServerSettings(Strict):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    max_body_bytes: int = Field(4 * 1024 * 1024, gt=0)
    log_prompts: bool = Field(False, description="log prompt and completion text (off: never logged)")
    auth: bool = Field(True, description="require virtual API keys (`interlock keys create`)")
    admin_key_env: str = Field("INTERLOCK_ADMIN_KEY", description="env var holding the admin key for /admin")
    writes: Literal["process", "thread"] = Field(
        "process", description="where ledger and audit batches are written: a child process (off the serving "
        "process's GIL) or a thread of the serving process")


class GatewayConfig(Strict):
    server: ServerSettings = ServerSettings()
    deployments: list[Deployment] = Field(min_length=1)
    aliases: list[Alias] = []
    lifecycle: list[VersionLifecycle] = []
    routes: list[RouteSettings] = []
    routing: RoutingSettings = RoutingSettings()
    resilience: ResilienceSettings = ResilienceSettings()
    accounting: AccountingSettings = AccountingSettings()
    compliance: CompliancePolicy | None = Field(
        None, description="rules per data class; default: every sensitive class stays inside the perimeter"
    )
    audit_log: str | None = Field(None, description="SQLite file or postgresql:// URL of the hash-chained audit log; default: the PostgreSQL database when accounting uses one, else audit.db in the user data dir")
    observability: ObservabilitySettings = ObservabilitySettings()

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
        check_versions(self.deployments, self.aliases, self.lifecycle)
        baseline = self.accounting.baseline_model
        if baseline is not None and baseline not in models:
            raise ValueError(f"accounting.baseline_model {baseline!r} is not a catalog model; models: {sorted(models)}")
        names = models | {a.name for a in self.aliases}
        for r in self.routes:
            if r.name in names or r.name == AUTO_ROUTE:
                raise ValueError(f"route {r.name!r} has the name of a model or alias (or 'auto')")
            unknown = sorted(set(r.candidates or ()) - models)
            if unknown:
                raise ValueError(f"route {r.name!r} lists unknown candidate models {unknown}; models: {sorted(models)}")
        return self
