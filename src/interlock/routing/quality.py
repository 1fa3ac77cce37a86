"""The quality table: expected quality of each model per task category, from a validated data file."""

from __future__ import annotations

import fnmatch
import importlib.resources
from pathlib import Path
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from interlock.config.load import ConfigError, format_path

CATEGORIES = (
    "extraction", "classification", "summarization", "code", "customer_support", "document_analysis",
    "translation", "general_chat", "multi_step_reasoning", "current_knowledge",
)


class FamilyQuality(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pattern: str = Field(min_length=1, description="glob over catalog model names")
    quality: dict[str, float]

    @field_validator("quality")
    @classmethod
    def _known_categories_in_range(cls, v: dict[str, float]) -> dict[str, float]:
        for cat, q in v.items():
            if cat not in CATEGORIES:
                raise ValueError(f"unknown category {cat!r}; categories: {', '.join(CATEGORIES)}")
            if not 0.0 <= q <= 1.0:
                raise ValueError(f"quality for {cat!r} must be within [0, 1], got {q}")
        return v


class QualityTable(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = 1
    source: str = ""
    date: str = ""
    families: list[FamilyQuality]

    def lookup(self, model: str, category: str) -> float | None:
        """Expected quality of ``model`` on ``category``; None when no family matches or it lacks the category."""
        for fam in self.families:
            if fnmatch.fnmatchcase(model, fam.pattern):
                return fam.quality.get(category)
        return None


def load_quality_table(path: str | Path | None = None) -> QualityTable:
    if path is None:
        text = (importlib.resources.files("interlock") / "data/quality/default.yaml").read_text()
        source = "interlock/data/quality/default.yaml"
    else:
        source = str(path)
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise ConfigError(source, [f"cannot read quality table: {exc.strerror}"]) from None
    data = yaml.safe_load(text)
    if isinstance(data, dict) and str(data.get("kind", "")).startswith("interlock."):
        raise ConfigError(source, ["this file was written by `interlock calibrate`: set it as `routing.policy`, "
                                   "not `routing.quality_table` (rerun calibrate if it is an old quality table)"])
    try:
        return QualityTable.model_validate(data)
    except ValidationError as exc:
        problems = [f"{format_path(tuple(e['loc']))}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()]
        raise ConfigError(source, problems) from None
