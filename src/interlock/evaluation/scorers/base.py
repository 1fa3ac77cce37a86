"""The scorer seam: the ``Score`` value, the one-method ``Scorer`` Protocol and the registry.

A scorer kind registers under its name with the pydantic model of its options and the shape
of the ``expected`` value it needs, so suites are validated against it when they are loaded
and the runner builds scorers from data, never from an if/elif ladder.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, TypeAdapter

if TYPE_CHECKING:
    from interlock.evaluation.suite import SuiteItem

_DETAIL_LIMIT = 200


@dataclass(frozen=True, slots=True)
class Score:
    """A quality value in [0, 1] and a short human-readable reason."""

    value: float
    detail: str = ""

    def __post_init__(self) -> None:
        if math.isnan(self.value) or not 0.0 <= self.value <= 1.0:
            raise ValueError(f"score must be within [0, 1], got {self.value}")
        if len(self.detail) > _DETAIL_LIMIT:
            object.__setattr__(self, "detail", self.detail[: _DETAIL_LIMIT - 1] + "…")


class Scorer(Protocol):
    def score(self, item: SuiteItem, output: str) -> Score: ...


@dataclass(frozen=True, slots=True)
class ScoringContext:
    """What scorers may need beyond the item: the gateway a judge model is reached through."""

    base_url: str | None = None
    api_key: str | None = None
    judge_model: str | None = None
    timeout_s: float = 120.0


class NoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScorerConfigError(Exception):
    """A scorer cannot be built from what the suite and the run provide (e.g. no judge model)."""


ScorerFactory = Callable[[Any, ScoringContext], Scorer]


@dataclass(frozen=True)
class ScorerType:
    """One registered scorer kind.

    ``expected`` is the type the item's ``expected`` must have (``None`` if the scorer does not
    read it); ``cache_scores`` marks scorers expensive enough (sandboxes, judge calls) that their
    scores are cached alongside completions.
    """

    name: str
    factory: ScorerFactory
    options: type[BaseModel]
    expected: Any
    expected_required: bool
    cache_scores: bool

    def parse_options(self, raw: dict[str, Any]) -> BaseModel:
        return self.options.model_validate(raw)

    def parse_expected(self, value: Any) -> Any:
        if self.expected is None:
            return value
        return TypeAdapter(self.expected).validate_python(value)

    def build(self, options: BaseModel, context: ScoringContext) -> Scorer:
        return self.factory(options, context)


_REGISTRY: dict[str, ScorerType] = {}

T = TypeVar("T")


def register_scorer(
    name: str,
    *,
    options: type[BaseModel] = NoOptions,
    expected: Any = None,
    expected_required: bool = True,
    cache_scores: bool = False,
) -> Callable[[T], T]:
    """Class decorator: ``cls(options, context)`` must return a ``Scorer``."""

    def add(cls: T) -> T:
        if name in _REGISTRY:
            raise ValueError(f"scorer {name!r} is already registered")
        _REGISTRY[name] = ScorerType(
            name=name,
            factory=cls,  # type: ignore[arg-type]
            options=options,
            expected=expected,
            expected_required=expected_required and expected is not None,
            cache_scores=cache_scores,
        )
        return cls

    return add


def scorer_type(name: str) -> ScorerType:
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise KeyError(f"unknown scorer {name!r} (known: {known})") from None


def scorer_names() -> list[str]:
    return sorted(_REGISTRY)
