"""Scorers: the Protocol and registry, plus the built-in kinds (imported here so they register)."""

from interlock.evaluation.scorers import code, json_fields, judge, label, matching, rouge  # noqa: F401
from interlock.evaluation.scorers.base import (
    Score,
    Scorer,
    ScorerConfigError,
    ScorerType,
    ScoringContext,
    register_scorer,
    scorer_names,
    scorer_type,
)

__all__ = [
    "Score",
    "Scorer",
    "ScorerConfigError",
    "ScorerType",
    "ScoringContext",
    "register_scorer",
    "scorer_names",
    "scorer_type",
]
