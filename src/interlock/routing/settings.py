"""Config models for routing: named routes (a workload's policy) and global routing settings."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ErrorCost = Literal["low", "medium", "high"]

AUTO_ROUTE = "auto"


class RouteTimeouts(BaseModel):
    """Seconds; unset fields leave the deployment's limit alone."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    first_token: float | None = Field(None, gt=0, description="until the first streamed chunk")
    stall: float | None = Field(None, gt=0, description="between two streamed chunks")
    total: float | None = Field(None, gt=0, description="the whole call or stream")


class RouteSettings(BaseModel):
    """One workload's policy: the three questions, plus which models may serve it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    candidates: list[str] | None = Field(None, description="catalog models; default: the whole catalog")
    error_cost: ErrorCost = "medium"
    needs_frontier_reasoning: bool = Field(False, description="only closed frontier models may serve it")
    allow_self_hosted: bool = Field(True, description="whether in-perimeter (self-hosted) models may serve it")
    expected_output_tokens: int = Field(256, gt=0, description="for cost estimates when max_tokens is unset")
    latency_target_ms: float | None = Field(None, gt=0)
    timeouts: RouteTimeouts | None = Field(
        None, description="limits for this route's requests, laid over each deployment's (the tighter wins); "
        "a route limit firing is not held against the deployment's health or breaker")


class RoutingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    policy: str | None = Field(
        None, description="routing policy written by `interlock calibrate` (relative to this file); executed "
        "exactly for every routed request; reloaded with the config")
    seed: int | None = Field(None, description="seed for a policy's traffic-mix draws; default: fresh randomness")
    quality_table: str | None = Field(
        None, description="without a policy: YAML quality priors (default: the shipped priors)")
    error_cost_fractions: dict[ErrorCost, float] = Field(
        default_factory=lambda: {"low": 0.85, "medium": 0.93, "high": 0.98},
        description="without a policy: required share of the best candidate's prior quality, by route error cost",
    )
    auto: RouteSettings = RouteSettings(name=AUTO_ROUTE)
