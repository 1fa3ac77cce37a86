"""Version config: strict models, refs checked against deployments, and the documented YAML validates."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import yaml
from pydantic import TypeAdapter, ValidationError

from interlock.config.deployments import Deployment
from interlock.versions.settings import (
    Lifecycle,
    ShadowSettings,
    VersionedAlias,
    VersionLifecycle,
    check_versions,
    version_problems,
)
from versions.builders import deployment

DOC = Path(__file__).parents[2] / "docs" / "versions.md"
DEPLOYMENTS = [deployment("a1", "qwen", "v1"), deployment("a2", "qwen", "v2"), deployment("l", "llama")]


def test_an_alias_has_one_kind_of_target() -> None:
    with pytest.raises(ValidationError, match="exactly one of `target` and `targets`"):
        VersionedAlias.model_validate({"name": "x"})
    with pytest.raises(ValidationError, match="exactly one"):
        VersionedAlias.model_validate(
            {"name": "x", "target": "qwen", "targets": [{"model": "llama", "weight": 1}]}
        )
    with pytest.raises(ValidationError, match="appears twice"):
        VersionedAlias.model_validate(
            {"name": "x", "targets": [{"model": "q", "weight": 1}, {"model": "q", "weight": 2}]}
        )
    with pytest.raises(ValidationError, match="greater than 0"):
        VersionedAlias.model_validate({"name": "x", "targets": [{"model": "q", "weight": 0}]})
    with pytest.raises(ValidationError, match="Extra inputs"):
        VersionedAlias.model_validate({"name": "x", "target": "q", "canary": True})
    alias = VersionedAlias.model_validate(
        {"name": "x", "targets": [{"model": "qwen@v1", "weight": 95}, {"model": "qwen@v2", "weight": 5}]}
    )
    assert alias.primary_target == "qwen@v1"
    assert VersionedAlias(name="y", target="llama").weighted_targets()[0].model == "llama"


def test_shadow_and_lifecycle_bounds() -> None:
    with pytest.raises(ValidationError):
        ShadowSettings(model="q", share=1.5)
    with pytest.raises(ValidationError):
        ShadowSettings(model="q", share=0.1, max_concurrency=0)
    with pytest.raises(ValidationError, match="is after `sunset`"):
        Lifecycle(deprecated_after=date(2026, 7, 1), sunset=date(2026, 6, 1))
    with pytest.raises(ValidationError, match="set `deprecated_after`, `sunset` or both"):
        Lifecycle(successor="qwen")


def test_refs_are_checked_against_the_deployments() -> None:
    aliases = [
        VersionedAlias.model_validate(
            {"name": "ok", "targets": [{"model": "qwen@v1", "weight": 1}, {"model": "llama", "weight": 1}]}
        ),
        VersionedAlias.model_validate(
            {"name": "bad", "target": "qwen@v9", "shadow": {"model": "mistral", "share": 0.5}}
        ),
    ]
    lifecycle = [
        VersionLifecycle(model="qwen@v1", sunset=date(2026, 1, 1), successor="qwen@v2"),
        VersionLifecycle(model="qwen@v2", sunset=date(2026, 1, 1), successor="qwen@v1"),
        VersionLifecycle(model="llama", deprecated_after=date(2026, 1, 1)),
        VersionLifecycle(model="llama", sunset=date(2026, 1, 1)),
    ]
    problems = version_problems(DEPLOYMENTS, aliases, lifecycle)
    assert problems == [
        "alias 'bad' names unknown model or version 'qwen@v9'; known: llama, qwen, qwen@v1, qwen@v2",
        "alias 'bad' shadow names unknown model or version 'mistral'; known: llama, qwen, qwen@v1, qwen@v2",
        "lifecycle lists 'llama' more than once",
        "lifecycle successors form a cycle: qwen@v1 -> qwen@v2 -> qwen@v1",
    ]
    with pytest.raises(ValueError, match="qwen@v9"):
        check_versions(DEPLOYMENTS, aliases, lifecycle)
    check_versions(DEPLOYMENTS, aliases[:1], lifecycle[2:3])


def test_the_documented_config_validates() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    assert blocks, "docs/versions.md lost its config example"
    data = yaml.safe_load(blocks[0])
    deployments = TypeAdapter(list[Deployment]).validate_python(data["deployments"])
    aliases = [VersionedAlias.model_validate(a) for a in data["aliases"]]
    lifecycle = [VersionLifecycle.model_validate(e) for e in data["lifecycle"]]
    check_versions(deployments, aliases, lifecycle)
    assert aliases[0].shadow is not None and aliases[0].shadow.share == 0.1
    assert lifecycle[0].sunset == date(2026, 6, 30)
