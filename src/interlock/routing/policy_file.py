"""The routing policy file: what ``interlock calibrate`` promises, and exactly what the gateway executes.

Per task (the customer's own labels, or the shipped generic categories) it names one model, a
traffic mix with shares, or a per-prompt router between a cheaper and a stronger model, with the
quality floor it was chosen for, the expected quality and cost (with confidence intervals) and the
data it came from (a hash of the results file). Loading validates strictly and names the path of a
bad field; the file's SHA-256 travels with every decision (``policy_hash``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from interlock.config.load import ConfigError, format_path

POLICY_KIND = "interlock.routing_policy"
POLICY_FORMAT = 2
STRONGEST = "strongest"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Estimate(_Strict):
    """A point estimate and its confidence interval (at the policy's ``settings.risk``, two-sided)."""

    value: float
    low: float
    high: float


class ModelShare(_Strict):
    model: str = Field(min_length=1)
    share: float = Field(gt=0.0, le=1.0)


class PromptRule(_Strict):
    """A per-prompt router: a prompt scoring at least ``threshold`` goes to ``cheap``, the rest to ``strong``."""

    path: str = Field(description="the router artifact, relative to the policy file")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    cheap: str
    strong: str
    threshold: float
    cheap_share: float = Field(ge=0.0, le=1.0, description="share of the evaluation's prompts sent to `cheap`")
    metrics: dict[str, float] = Field(default_factory=dict, description="out-of-fold APGR, AIQ, ... on the suite")


class MeasuredModel(_Strict):
    quality: float
    cost_per_request_usd: float
    n: int


Rule = Literal["single", "mix", "prompt_router", "strongest_small_sample"]


class TaskRoute(_Strict):
    rule: Rule
    models: list[ModelShare] = Field(min_length=1, description="the traffic split; one model at share 1 for `single`")
    prompt_router: PromptRule | None = None
    floor: float = Field(description="the quality floor: settings.target x the baseline's measured quality")
    n_items: int = Field(ge=0)
    quality: Estimate
    cost_per_request_usd: Estimate
    baseline_quality: float
    baseline_cost_per_request_usd: float
    ranking: list[str] = Field(description="models by measured quality, strongest first: the fallback order")
    measured: dict[str, MeasuredModel]
    reason: str

    @model_validator(mode="after")
    def _consistent(self) -> TaskRoute:
        total = sum(s.share for s in self.models)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"model shares add up to {total:.6f}, not 1")
        if (self.rule == "prompt_router") != (self.prompt_router is not None):
            raise ValueError("`prompt_router` is set exactly when rule is prompt_router")
        return self


class PolicySettings(_Strict):
    target: float = Field(gt=0.0, le=1.0, description="quality floor as a share of the baseline's quality")
    risk: float = Field(gt=0.0, lt=0.5, description="the chance a promised floor is missed (one-sided)")
    min_items: int = Field(ge=1, description="smaller tasks go to the strongest model")
    baseline: str = Field(description="the all-frontier model savings are measured against")
    uncovered: str = Field(STRONGEST, description="a live task without data: `strongest` or a model name")


class DataSource(_Strict):
    source: str
    sha256: str
    suite: str
    items: int
    models: list[str]


class ClassifierRef(_Strict):
    path: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    labels: list[str]
    heldout_accuracy: float
    n_train: int
    n_heldout: int


class Overall(_Strict):
    quality_share: Estimate = Field(description="routed quality / baseline quality, traffic-weighted")
    cost_per_1k_usd: float
    baseline_cost_per_1k_usd: float
    cost_share: float
    savings_fraction: float


class RoutingPolicy(_Strict):
    kind: Literal["interlock.routing_policy"] = POLICY_KIND
    format: Literal[2] = POLICY_FORMAT
    version: str
    generated_at: str
    data: DataSource
    settings: PolicySettings
    classifier: ClassifierRef | None = None
    tasks: dict[str, TaskRoute]
    traffic: dict[str, float]
    expected: Overall

    @property
    def models(self) -> set[str]:
        return {m for t in self.tasks.values() for m in t.measured}

    def to_yaml(self) -> str:
        header = ("# Routing policy written by `interlock calibrate`; the gateway executes it exactly\n"
                  "# (`routing.policy` in the gateway config). Edit by recalibrating, not by hand.\n")
        return header + yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


class LoadedPolicy:
    """A validated policy, where it lives (artifact paths are relative to it) and its file hash."""

    def __init__(self, policy: RoutingPolicy, path: Path, sha256: str) -> None:
        self.policy = policy
        self.path = path
        self.sha256 = sha256

    def artifact(self, relative: str, expected_sha256: str) -> Path:
        """An artifact the policy references, checked against its recorded hash."""
        path = (self.path.parent / relative).resolve()
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as exc:
            raise ConfigError(str(self.path), [f"cannot read {relative}: {exc.strerror}"]) from None
        if digest != expected_sha256:
            raise ConfigError(str(self.path), [f"{relative} does not match its sha256 in the policy "
                                               f"(file {digest[:16]}..., policy {expected_sha256[:16]}...)"])
        return path


def load_policy(path: str | Path) -> LoadedPolicy:
    """Read and validate a policy file; errors name the file and the path of each bad field."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read routing policy: {exc.strerror}"]) from None
    try:
        data: Any = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise ConfigError(str(path), [f"not valid YAML: {exc}"]) from None
    if isinstance(data, dict) and data.get("kind") == "interlock.quality_table":
        raise ConfigError(str(path), ["this is a quality table from an older `interlock calibrate`; rerun "
                                      "`interlock calibrate` to write a routing policy"])
    try:
        policy = RoutingPolicy.model_validate(data)
    except ValidationError as exc:
        problems = [f"{format_path(tuple(e['loc']))}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()]
        raise ConfigError(str(path), problems) from None
    return LoadedPolicy(policy, path.resolve(), hashlib.sha256(raw).hexdigest())
