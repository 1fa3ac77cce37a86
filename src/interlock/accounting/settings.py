"""Config models for accounting: where the ledger and keys live, budgets by team, the baseline model."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class TeamBudget(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    team: str = Field(min_length=1)
    budget_usd: Decimal = Field(gt=0)
    period: Literal["day", "month"] = "month"


class AccountingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    database_url: str | None = Field(
        None, description="SQLite file path or postgresql:// URL for ledger and keys; default: a file in the user data dir"
    )
    redis_url: str | None = Field(None, description="share budgets and rate limits across gateway processes")
    baseline_model: str | None = Field(
        None, description="counterfactual model for savings; default: the most expensive frontier model in the catalog"
    )
    default_output_tokens: int = Field(1024, gt=0, description="output reserved when a request sets no max_tokens")
    teams: list[TeamBudget] = []
    ledger: bool = Field(True, description="record every request in the usage ledger")
