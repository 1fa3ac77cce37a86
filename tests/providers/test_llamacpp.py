"""The embedded provider: weight files pinned by SHA-256, a mismatch refuses to load."""

from __future__ import annotations

import pytest

from interlock.config.defaults import default_config
from interlock.providers.llamacpp import LlamaCppProvider, WeightDigestMismatch, resolve_gguf

pytestmark = pytest.mark.embedded


def _deployment(**over: object):
    d = default_config({}).config.deployments[0]
    return d.model_copy(update=over)


def test_pinned_digest_matches_the_shipped_weights() -> None:
    provider = LlamaCppProvider(_deployment())
    provider.load()
    assert provider.digest == _deployment().sha256


def test_digest_mismatch_refuses_to_load_naming_file_and_digests() -> None:
    wrong = "0" * 64
    provider = LlamaCppProvider(_deployment(sha256=wrong))
    with pytest.raises(WeightDigestMismatch) as exc:
        provider.load()
    message = str(exc.value)
    assert str(resolve_gguf(_deployment())) in message
    assert wrong in message and _deployment().sha256 in message
    assert provider._llm is None


def test_missing_package_or_file_is_a_clear_error() -> None:
    with pytest.raises(FileNotFoundError, match="not installed"):
        resolve_gguf(_deployment(package="no_such_weights_pkg"))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        resolve_gguf(_deployment(file="missing.gguf"))
