"""``x-interlock-pin``: exactly the pinned version, or a clear 400 / 404."""

from __future__ import annotations

import pytest

from interlock.errors import InvalidRequest, ModelNotFound
from interlock.versions.pinning import PIN_HEADER, families_for, parse_pin, resolve_pin
from interlock.versions.refs import VersionIndex, VersionRef
from interlock.versions.settings import VersionedAlias
from versions.builders import deployment

INDEX = VersionIndex(
    [
        deployment("qwen-old-a", "qwen2.5-72b-instruct", "2025-11-fp8"),
        deployment("qwen-new-a", "qwen2.5-72b-instruct", "2026-03-awq"),
        deployment("qwen-new-b", "qwen2.5-72b-instruct", "2026-03-awq"),
        deployment("llama", "llama-3.1-8b-instruct", "2025-11-fp8"),
    ]
)


def test_a_pin_serves_exactly_that_version() -> None:
    pin = resolve_pin("qwen2.5-72b-instruct@2026-03-awq", INDEX)
    assert pin is not None
    assert pin.ref == VersionRef("qwen2.5-72b-instruct", "2026-03-awq")
    assert [d.name for d in pin.deployments] == ["qwen-new-a", "qwen-new-b"]
    assert resolve_pin(None, INDEX) is None


@pytest.mark.parametrize("value", ["", "qwen", "@2026-03-awq", "qwen@", "qwen @v1", "qwen@v 1"])
def test_malformed_pins_are_400(value: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        parse_pin(value)
    assert info.value.status == 400 and info.value.code == "invalid_pin" and info.value.param == PIN_HEADER
    assert "family@version" in info.value.message


def test_an_unknown_version_is_404_listing_the_versions() -> None:
    with pytest.raises(ModelNotFound) as info:
        resolve_pin("qwen2.5-72b-instruct@2024-01", INDEX)
    err = info.value
    assert err.status == 404 and err.code == "model_not_found" and err.param == PIN_HEADER
    assert "has no version '2024-01'" in err.message
    assert "qwen2.5-72b-instruct@2025-11-fp8, qwen2.5-72b-instruct@2026-03-awq" in err.message


def test_an_unknown_family_is_404_listing_the_models() -> None:
    with pytest.raises(ModelNotFound, match="llama-3.1-8b-instruct, qwen2.5-72b-instruct"):
        resolve_pin("mistral@1", INDEX)


def test_a_pin_must_match_what_the_request_asks_for() -> None:
    aliases = {
        "triage": VersionedAlias.model_validate(
            {
                "name": "triage",
                "targets": [
                    {"model": "qwen2.5-72b-instruct@2025-11-fp8", "weight": 9},
                    {"model": "qwen2.5-72b-instruct@2026-03-awq", "weight": 1},
                ],
            }
        )
    }
    allowed = families_for("triage", aliases, INDEX)
    assert allowed == {"qwen2.5-72b-instruct"}
    assert resolve_pin("qwen2.5-72b-instruct@2025-11-fp8", INDEX, allowed) is not None
    with pytest.raises(InvalidRequest) as info:
        resolve_pin("llama-3.1-8b-instruct@2025-11-fp8", INDEX, allowed)
    assert info.value.code == "pin_mismatch" and "qwen2.5-72b-instruct" in info.value.message
    assert families_for("llama-3.1-8b-instruct@2025-11-fp8", aliases, INDEX) == {"llama-3.1-8b-instruct"}
