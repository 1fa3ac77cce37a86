"""The record of one request as it moves through the gateway; every sink (metrics, logs, ledger) reads it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from interlock.types import Usage


@dataclass(slots=True)
class RequestRecord:
    request_id: str
    endpoint: str
    upstream_request_id: str = ""  # the id upstreams see: minted by the gateway, never the client's
    requested_model: str = ""
    key_id: str | None = None
    team: str | None = None
    model: str = ""
    deployment: str = ""
    model_version: str | None = None
    stream: bool = False
    status: int = 200
    error_code: str | None = None
    usage: Usage = field(default_factory=Usage)
    started: float = field(default_factory=time.perf_counter)
    first_token_s: float | None = None
    latency_s: float = 0.0
    config_hash: str = ""
    attempts: int = 0
    cost_usd: Decimal | None = None
    baseline_cost_usd: Decimal | None = None
    prompt_text: str | None = None
    completion_text: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # logged as is: identifiers and numbers only
    compliance: Any = None  # the compliance assessment, for the audit log (never logged)
    report: Any = None  # the fallback chain's AttemptReport (each upstream attempt), for traces
    holds_runtime: bool = False

    @property
    def upstream_id(self) -> str:
        return self.upstream_request_id or self.request_id

    def mark_first_token(self) -> None:
        if self.first_token_s is None:
            self.first_token_s = time.perf_counter() - self.started

    def finish(self, status: int, error_code: str | None = None) -> None:
        self.status = status
        self.error_code = error_code
        self.latency_s = time.perf_counter() - self.started
