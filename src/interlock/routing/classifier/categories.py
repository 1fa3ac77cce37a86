"""The task categories the request classifier predicts, loaded from their data file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "classifier"
CATEGORIES_FILE = DATA_DIR / "categories.json"


@dataclass(frozen=True, slots=True)
class Category:
    name: str
    definition: str


@cache
def load_categories(path: Path = CATEGORIES_FILE) -> tuple[Category, ...]:
    """Read and check the category table; order in the file is the canonical order."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    categories = tuple(Category(name=c["name"], definition=c["definition"]) for c in raw["categories"])
    names = [c.name for c in categories]
    if len(set(names)) != len(names):
        raise ValueError(f"{path}: duplicate category names")
    return categories


def category_names() -> tuple[str, ...]:
    return tuple(c.name for c in load_categories())
