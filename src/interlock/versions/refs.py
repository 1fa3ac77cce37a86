"""Resolving refs (``model`` or ``family@version``) to the deployments that serve them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from interlock.config.deployments import DeploymentBase
from interlock.errors import ModelNotFound


@dataclass(frozen=True, slots=True)
class VersionRef:
    family: str
    version: str | None = None

    def __str__(self) -> str:
        return self.family if self.version is None else f"{self.family}@{self.version}"


def ref_of(deployment: DeploymentBase) -> str:
    """The most precise ref naming ``deployment``'s version."""
    return str(VersionRef(deployment.model, deployment.version))


class VersionIndex:
    """Deployments grouped by family (the ``model`` field) and version, in config order."""

    def __init__(self, deployments: Iterable[DeploymentBase]) -> None:
        self._families: dict[str, list[DeploymentBase]] = {}
        for d in deployments:
            self._families.setdefault(d.model, []).append(d)

    def families(self) -> list[str]:
        return sorted(self._families)

    def versions(self, family: str) -> list[str]:
        """The distinct versions of ``family`` (deployments without a version are left out)."""
        return sorted({d.version for d in self._families.get(family, ()) if d.version is not None})

    def split(self, ref: str) -> VersionRef:
        """``family@version`` -> its parts; a name that is itself a family is never split."""
        if ref in self._families or "@" not in ref:
            return VersionRef(ref)
        family, _, version = ref.rpartition("@")
        return VersionRef(family, version)

    def resolve(self, ref: str | VersionRef) -> tuple[DeploymentBase, ...]:
        """The deployments ``ref`` names; an unknown family or version is a ``ModelNotFound`` listing
        what exists."""
        parsed = self.split(ref) if isinstance(ref, str) else ref
        members = self._families.get(parsed.family)
        if not members:
            raise ModelNotFound(
                f"The model {parsed.family!r} does not exist in this gateway. "
                f"Models: {', '.join(self.families())}",
                param="model",
            )
        if parsed.version is None:
            return tuple(members)
        chosen = tuple(d for d in members if d.version == parsed.version)
        if not chosen:
            known = ", ".join(f"{parsed.family}@{v}" for v in self.versions(parsed.family)) or "none"
            raise ModelNotFound(
                f"The model {parsed.family!r} has no version {parsed.version!r}. Versions: {known}",
                param="model",
            )
        return chosen
