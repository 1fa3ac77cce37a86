"""What a suite is: the strict schemas of its lines and the resolved items the runner consumes.

Parsing files and reporting errors with line numbers lives in ``suite_files``; here are the
line schemas (unknown keys rejected) and ``SuiteItem``, an item with the suite defaults applied
and its scorer options validated against the scorer's own options model.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class TaskCategory(StrEnum):
    EXTRACTION = "extraction"
    CLASSIFICATION = "classification"
    SUMMARIZATION = "summarization"
    CODE = "code"
    CUSTOMER_SUPPORT = "customer_support"
    DOCUMENT_ANALYSIS = "document_analysis"
    TRANSLATION = "translation"
    GENERAL_CHAT = "general_chat"
    MULTI_STEP_REASONING = "multi_step_reasoning"
    CURRENT_KNOWLEDGE = "current_knowledge"


# Any task label a customer uses (``claims_triage``, ``mmlu.law``); the generic ``TaskCategory`` names
# are what the shipped request classifier predicts, and the default for users without a suite.
TaskLabel = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}$"),
    Field(description="the task this item belongs to: your own label, or one of interlock's generic categories "
          "(extraction, classification, summarization, code, customer_support, document_analysis, translation, "
          "general_chat, multi_step_reasoning, current_knowledge)"),
]


class Message(BaseModel):
    """One OpenAI-format chat message (text content only)."""

    model_config = ConfigDict(extra="forbid")
    role: Literal["system", "user", "assistant"]
    content: str
    name: str | None = None


class SuiteDefaults(BaseModel):
    """Values an item inherits when it does not set them itself."""

    model_config = ConfigDict(extra="forbid")
    category: TaskLabel | None = None
    scorer: str | None = None
    scorer_options: dict[str, Any] = Field(default_factory=dict)
    max_tokens: int | None = Field(default=None, ge=1, le=65536)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    system: str | None = Field(default=None, description="prepended as a system message if an item has none")


class SuiteHeader(BaseModel):
    """The first JSONL line ``{"suite": {...}}``, or the body of a YAML suite file."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    version: str = "1"
    description: str = ""
    defaults: SuiteDefaults = Field(default_factory=SuiteDefaults)


class ItemSpec(BaseModel):
    """One JSONL item line, as written."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=200)
    messages: list[Message] = Field(min_length=1)
    category: TaskLabel | None = None
    expected: Any = None
    scorer: str | None = None
    scorer_options: dict[str, Any] | None = None
    max_tokens: int | None = Field(default=None, ge=1, le=65536)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    tags: list[str] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SuiteItem:
    """An item ready to run: defaults applied, ``expected`` and ``options`` validated for its scorer."""

    id: str
    messages: tuple[dict[str, str], ...]
    category: str
    expected: Any
    scorer: str
    options: BaseModel
    max_tokens: int | None
    temperature: float
    line: int
    tags: tuple[str, ...] = ()

    def request_body(self) -> dict[str, Any]:
        """The OpenAI chat-completions body for this item, without ``model``."""
        body: dict[str, Any] = {"messages": [dict(m) for m in self.messages], "temperature": self.temperature}
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        return body

    @property
    def prompt_hash(self) -> str:
        """Changes whenever what is sent to the model changes; part of the cache key."""
        return canonical_hash(self.request_body())

    @property
    def scoring_key(self) -> str:
        """Changes whenever how the output is scored changes; keys cached scores."""
        return canonical_hash(
            {
                "scorer": self.scorer,
                "options": self.options.model_dump(mode="json"),
                "expected": self.expected,
            }
        )


def canonical_hash(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Suite:
    name: str
    version: str
    description: str
    source: str
    items: tuple[SuiteItem, ...]

    @property
    def categories(self) -> list[str]:
        from interlock.evaluation.stats import category_order

        return category_order(item.category for item in self.items)

    def item(self, item_id: str) -> SuiteItem:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)


def suite_json_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schemas of the header line and of an item line, for editors and linters."""
    return {"header": SuiteHeader.model_json_schema(), "item": ItemSpec.model_json_schema()}
