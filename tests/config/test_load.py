"""Config loading: strict validation with errors that name the path (and line) in the file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from interlock.config.defaults import EMBEDDED_MODEL, default_config
from interlock.config.load import ConfigError, format_path, load_config, parse_config

ROOT = Path(__file__).resolve().parents[2]

GOOD = """
deployments:
  - name: a
    type: openai
    model: m
    vendor: v
    perimeter: internal
    context_window: 100
    base_url: http://127.0.0.1:1/v1
    price: {input_per_mtok: 0.1, output_per_mtok: 0.2}
"""


def test_example_portfolio_is_valid() -> None:
    loaded = load_config(ROOT / "examples" / "hybrid.yaml")
    types = {d.type for d in loaded.config.deployments}
    assert types == {"openai", "anthropic", "llamacpp"}
    assert len(loaded.hash) == 16


def test_hash_is_stable_and_changes_with_content() -> None:
    assert parse_config(GOOD).hash == parse_config(GOOD).hash
    assert parse_config(GOOD).hash != parse_config(GOOD.replace("100", "200")).hash


def test_errors_name_path_and_line() -> None:
    bad = GOOD + """  - name: b
    type: openai
    model: m2
    vendor: v
    perimeter: outside
    context_window: 100
    base_url: ftp://x
    price: {input_per_mtok: -1, output_per_mtok: 1}
    colour: blue
"""
    with pytest.raises(ConfigError) as exc:
        parse_config(bad, "f.yaml")
    problems = "\n".join(exc.value.problems)
    assert "deployments[1].perimeter: Input should be 'internal' or 'external'" in problems
    assert "deployments[1].price.input_per_mtok: Input should be greater than or equal to 0" in problems
    assert "deployments[1].colour: Extra inputs are not permitted" in problems
    assert "deployments[1].base_url" in problems
    assert "line 15: deployments[1].perimeter" in problems


def test_unknown_type_and_bad_alias() -> None:
    with pytest.raises(ConfigError) as exc:
        parse_config(GOOD.replace("type: openai", "type: bedrock"))
    assert "deployments[0]: Input tag 'bedrock' found using 'type' does not match" in exc.value.problems[0]
    with pytest.raises(ConfigError) as exc:
        parse_config(GOOD + "aliases:\n  - {name: x, target: nope}\n")
    assert "alias 'x' names unknown model or version 'nope'; known: m" in exc.value.problems[0]


def test_format_path_drops_union_tag() -> None:
    assert format_path(("deployments", 2, "openai", "price", "input_per_mtok")) == "deployments[2].price.input_per_mtok"


def test_embedded_default_and_vendor_keys() -> None:
    alone = default_config({})
    assert [d.model for d in alone.config.deployments] == [EMBEDDED_MODEL]
    assert alone.config.deployments[0].perimeter == "internal"
    both = default_config({"OPENAI_API_KEY": "k", "ANTHROPIC_API_KEY": "k"})
    external = [d for d in both.config.deployments if d.perimeter == "external"]
    assert {d.vendor for d in external} == {"openai", "anthropic"}


def test_config_check_cli(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("context_window: 100", "context_window: -3"))
    run = subprocess.run([sys.executable, "-m", "interlock.cli.main", "config", "check", str(bad)],
                         capture_output=True, text=True)
    assert run.returncode == 1
    assert "deployments[0].context_window: Input should be greater than 0" in run.stderr
    ok = subprocess.run([sys.executable, "-m", "interlock.cli.main", "config", "check", str(ROOT / "examples/hybrid.yaml")],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr


def test_a_deployment_without_a_price_is_an_error_unless_marked_unknown() -> None:
    unpriced = GOOD.replace("    price: {input_per_mtok: 0.1, output_per_mtok: 0.2}\n", "")
    with pytest.raises(ConfigError) as exc:
        parse_config(unpriced)
    assert exc.value.problems == ["line 3: deployments[0].price: Field required"]
    assert parse_config(unpriced + "    price: {type: unknown}\n").config.deployments[0].price.type == "unknown"


def test_gpu_hour_price_errors_name_the_field() -> None:
    gpu = GOOD.replace("{input_per_mtok: 0.1, output_per_mtok: 0.2}",
                       "{type: gpu_hour, gpu_type: H100, gpu_count: 2, usd_per_gpu_hour: 2.5, "
                       "throughput_tokens_per_s: 3000, utilisation: 1.5}")
    with pytest.raises(ConfigError) as exc:
        parse_config(gpu)
    assert "deployments[0].price.utilisation: Input should be less than or equal to 1" in exc.value.problems[0]
