"""Config models for version management, and the check of them against the deployments.

A *ref* names what may serve a request: a catalog model (``qwen2.5-72b-instruct``, every
deployment of it) or one version of it (``qwen2.5-72b-instruct@2026-03-awq``, the deployments
with that ``model`` and ``version``). Alias targets, shadow candidates, lifecycle entries and
successors are all refs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    from interlock.config.deployments import DeploymentBase


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StickyKey(StrEnum):
    """What keeps a client on one canary target: its API key, the request's ``user``, or nothing."""

    API_KEY = "api_key"
    USER = "user"
    NONE = "none"


class WeightedTarget(_Strict):
    model: str = Field(min_length=1, description="a model name, or family@version")
    weight: float = Field(gt=0, description="relative share; weights need not sum to 100")


class ShadowSettings(_Strict):
    """Mirror a share of an alias's requests to a candidate; the client only sees the primary."""

    model: str = Field(min_length=1, description="the candidate: a model name, or family@version")
    share: float = Field(gt=0, le=1, description="fraction of requests mirrored")
    max_concurrency: int = Field(
        default=4, gt=0, description="shadow calls in flight; more are dropped and counted"
    )
    timeout_s: float = Field(default=60.0, gt=0, description="a shadow call is abandoned after this long")


class Lifecycle(_Strict):
    """Dates are UTC days; a state holds from its date on (``sunset: 2026-06-30`` is gone on the 30th)."""

    deprecated_after: date | None = Field(
        default=None, description="from this day on, responses carry deprecation headers"
    )
    sunset: date | None = Field(
        default=None, description="from this day on, requests go to the successor or get 410"
    )
    successor: str | None = Field(default=None, min_length=1, description="a model name, or family@version")
    redirect: bool = Field(
        default=True, description="after sunset, serve the successor (else: 410 naming it)"
    )

    @model_validator(mode="after")
    def _dates_in_order(self) -> Lifecycle:
        if self.deprecated_after is None and self.sunset is None:
            raise ValueError("set `deprecated_after`, `sunset` or both")
        if self.deprecated_after and self.sunset and self.deprecated_after > self.sunset:
            raise ValueError(
                f"`deprecated_after` ({self.deprecated_after}) is after `sunset` ({self.sunset})"
            )
        return self


class VersionLifecycle(Lifecycle):
    """One entry of the top-level ``lifecycle`` list."""

    model: str = Field(
        min_length=1, description="the version it applies to: family@version, or a whole model"
    )


class VersionedAlias(_Strict):
    """An alias: one ``target``, or weighted ``targets`` (a canary), optionally with shadow traffic."""

    name: str = Field(min_length=1)
    target: str | None = Field(default=None, min_length=1, description="a model name, or family@version")
    targets: list[WeightedTarget] = Field(
        default_factory=list, description="weighted split; replaces `target`"
    )
    sticky: StickyKey = Field(default=StickyKey.API_KEY, description="what keeps a client on one target")
    shadow: ShadowSettings | None = None
    fallbacks: list[str] = Field(
        default_factory=list, description="models (or family@version) to fail over to, in order, after the target"
    )

    @model_validator(mode="after")
    def _one_kind_of_target(self) -> VersionedAlias:
        if (self.target is None) == (not self.targets):
            raise ValueError(f"alias {self.name!r}: set exactly one of `target` and `targets`")
        models = [t.model for t in self.targets]
        if len(set(models)) != len(models):
            raise ValueError(f"alias {self.name!r}: a model appears twice in `targets`")
        return self

    def weighted_targets(self) -> list[WeightedTarget]:
        """The split as a list; a single ``target`` is a split with one entry."""
        if self.target is not None:
            return [WeightedTarget(model=self.target, weight=1)]
        return list(self.targets)

    @property
    def primary_target(self) -> str:
        """The target that takes most traffic (the first on a tie): what listings show."""
        if self.target is not None:
            return self.target
        return max(self.targets, key=lambda t: t.weight).model


def known_refs(deployments: Iterable[DeploymentBase]) -> set[str]:
    """Every ref the deployments make valid: model names and ``model@version`` pairs."""
    refs: set[str] = set()
    for d in deployments:
        refs.add(d.model)
        if d.version is not None:
            refs.add(f"{d.model}@{d.version}")
    return refs


def version_problems(
    deployments: Sequence[DeploymentBase],
    aliases: Sequence[VersionedAlias],
    lifecycle: Sequence[VersionLifecycle],
) -> list[str]:
    """Refs that name nothing, duplicate lifecycle entries and successor cycles, one line each."""
    refs = known_refs(deployments)
    shown = ", ".join(sorted(refs))
    problems: list[str] = []

    def check(ref: str, where: str) -> None:
        if ref not in refs:
            problems.append(f"{where} names unknown model or version {ref!r}; known: {shown}")

    for a in aliases:
        for t in a.weighted_targets():
            check(t.model, f"alias {a.name!r}")
        if a.shadow is not None:
            check(a.shadow.model, f"alias {a.name!r} shadow")
        for ref in a.fallbacks:
            check(ref, f"alias {a.name!r} fallback")
    successors: dict[str, str] = {}
    for entry in lifecycle:
        check(entry.model, "lifecycle entry")
        if entry.successor is not None:
            check(entry.successor, f"lifecycle of {entry.model!r}: successor")
            successors[entry.model] = entry.successor
    seen_models = [e.model for e in lifecycle]
    for model in sorted({m for m in seen_models if seen_models.count(m) > 1}):
        problems.append(f"lifecycle lists {model!r} more than once")
    problems.extend(_successor_cycles(successors))
    return problems


def _successor_cycles(successors: dict[str, str]) -> list[str]:
    problems: list[str] = []
    reported: set[frozenset[str]] = set()
    for start in sorted(successors):
        chain, ref = [start], successors[start]
        while ref in successors and ref not in chain:
            chain.append(ref)
            ref = successors[ref]
        if ref == start and frozenset(chain) not in reported:
            reported.add(frozenset(chain))
            problems.append("lifecycle successors form a cycle: " + " -> ".join([*chain, start]))
    return problems


def check_versions(
    deployments: Sequence[DeploymentBase],
    aliases: Sequence[VersionedAlias],
    lifecycle: Sequence[VersionLifecycle],
) -> None:
    """For ``GatewayConfig``'s validator: raise ``ValueError`` listing every problem."""
    problems = version_problems(deployments, aliases, lifecycle)
    if problems:
        raise ValueError("; ".join(problems))
