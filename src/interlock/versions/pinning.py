"""The ``x-interlock-pin: family@version`` header: serve exactly that version or fail clearly.

A malformed pin is a 400 (``invalid_pin``); a family or version the catalog lacks is a 404
listing the versions that exist; a pin for another family than the request's model (or its
alias's targets) is a 400 (``pin_mismatch``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from interlock.config.deployments import DeploymentBase
from interlock.errors import InvalidRequest, ModelNotFound
from interlock.versions.refs import VersionIndex, VersionRef
from interlock.versions.settings import VersionedAlias

PIN_HEADER = "x-interlock-pin"


@dataclass(frozen=True, slots=True)
class Pin:
    ref: VersionRef
    deployments: tuple[DeploymentBase, ...]


def parse_pin(value: str) -> VersionRef:
    """``"qwen2.5-72b-instruct@2026-03-awq"`` -> ``VersionRef``; anything else raises ``InvalidRequest``."""
    text = value.strip()
    family, at, version = text.rpartition("@")
    if not at or not family or not version or any(c.isspace() for c in text):
        raise InvalidRequest(
            f"The {PIN_HEADER} header must be `family@version` (e.g. `qwen2.5-72b-instruct@2026-03-awq`), "
            f"got {value!r}.",
            param=PIN_HEADER,
            code="invalid_pin",
        )
    return VersionRef(family, version)


def families_for(model: str, aliases: Mapping[str, VersionedAlias], index: VersionIndex) -> set[str]:
    """The families a request for ``model`` (a model, ``family@version`` or an alias) may be pinned to."""
    alias = aliases.get(model)
    refs = [t.model for t in alias.weighted_targets()] if alias is not None else [model]
    return {index.split(ref).family for ref in refs}


def resolve_pin(
    value: str | None, index: VersionIndex, allowed_families: Collection[str] | None = None
) -> Pin | None:
    """The pinned deployments, or ``None`` without a header.

    ``allowed_families`` (see ``families_for``) rejects a pin for a model the request did not ask for.
    """
    if value is None:
        return None
    ref = parse_pin(value)
    try:
        deployments = index.resolve(ref)
    except ModelNotFound as exc:
        raise ModelNotFound(exc.message, param=PIN_HEADER) from None
    if allowed_families is not None and ref.family not in allowed_families:
        raise InvalidRequest(
            f"The {PIN_HEADER} header pins {str(ref)!r}, but the request's model is served by "
            f"{', '.join(sorted(allowed_families))}; pin a version of one of those.",
            param=PIN_HEADER,
            code="pin_mismatch",
        )
    return Pin(ref, deployments)
