"""``interlock config check`` on the shipped examples, and its errors for a missing variable."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("example", ["local.yaml", "hybrid.yaml"])
def test_shipped_examples_pass_config_check(interlock, example: str) -> None:  # type: ignore[no-untyped-def]
    result = interlock("config", "check", ROOT / "examples" / example)
    assert result.exit_code == 0, result.output
    assert "ok" in result.stdout


def test_config_check_names_a_missing_variable_and_its_line(interlock, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLAMA_SERVER_URL", raising=False)
    text = (ROOT / "examples" / "local.yaml").read_text(encoding="utf-8")
    config = tmp_path / "local.yaml"
    config.write_text(text.replace("${LLAMA_SERVER_URL:-http://127.0.0.1:8081/v1}", "${LLAMA_SERVER_URL}"))
    result = interlock("config", "check", config)
    assert result.exit_code != 0
    said = " ".join(result.output.split())
    assert "deployments[1].base_url: environment variable LLAMA_SERVER_URL is not set" in said
    line = next(i for i, row in enumerate(config.read_text().splitlines(), 1) if "${LLAMA_SERVER_URL}" in row)
    assert f"line {line}:" in said
