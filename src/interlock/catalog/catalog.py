"""Runtime catalog built from a validated config: model names and aliases resolved to deployments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from interlock.config.deployments import DeploymentBase
from interlock.config.schema import GatewayConfig
from interlock.errors import ModelNotFound


@dataclass(frozen=True, slots=True)
class CatalogModel:
    name: str
    deployments: tuple[DeploymentBase, ...]

    @property
    def primary(self) -> DeploymentBase:
        return self.deployments[0]

    def to_openai(self, created: int) -> dict[str, Any]:
        d = self.primary
        return {
            "id": self.name,
            "object": "model",
            "created": created,
            "owned_by": d.vendor,
            "vendor": d.vendor,
            "version": d.version,
            "open_weight": d.open_weight,
            "perimeter": d.perimeter,
            "region": d.region,
            "context_window": d.context_window,
            "capabilities": d.capabilities.model_dump(),
            "deployments": [x.name for x in self.deployments],
            "weights_sha256": getattr(d, "sha256", None) or d.weights_sha256,
        }


class Catalog:
    def __init__(self, config: GatewayConfig) -> None:
        grouped: dict[str, list[DeploymentBase]] = {}
        for d in config.deployments:
            grouped.setdefault(d.model, []).append(d)
        self.models: dict[str, CatalogModel] = {n: CatalogModel(n, tuple(ds)) for n, ds in grouped.items()}
        # alias -> the ref taking most of its traffic (a model, or family@version)
        self.aliases: dict[str, str] = {a.name: a.primary_target for a in config.aliases}
        self.deployments: dict[str, DeploymentBase] = {d.name: d for d in config.deployments}

    def resolve(self, name: str) -> CatalogModel:
        """A model name, ``family@version`` or alias -> the catalog model; unknown names list what exists."""
        ref = self.aliases.get(name, name)
        family, _, version = ref.partition("@")
        model = self.models.get(family)
        if model is not None and version:
            chosen = tuple(d for d in model.deployments if d.version == version)
            model = CatalogModel(ref, chosen) if chosen else None
        if model is None:
            known = sorted([*self.models, *self.aliases])
            raise ModelNotFound(
                f"The model {name!r} does not exist in this gateway. Available: {', '.join(known)}",
                param="model",
            )
        return model

    def listing(self, created: int) -> list[dict[str, Any]]:
        out = [m.to_openai(created) for m in self.models.values()]
        for alias, target in self.aliases.items():
            entry = self.resolve(target).to_openai(created)
            entry.update(id=alias, alias_of=target)
            out.append(entry)
        return out
