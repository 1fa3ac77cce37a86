"""``${VAR}`` in config values: filled from the environment before validation, errors with path and line."""

from __future__ import annotations

import pytest

from interlock.config.load import ConfigError, parse_config

TEMPLATE = """
server:
  host: ${{GW_HOST:-127.0.0.1}}
  port: ${{GW_PORT:-8080}}
deployments:
  - name: a
    type: openai
    model: m
    vendor: v
    perimeter: internal
    context_window: 100
    base_url: {base_url}
    headers: {{x-gateway-token: "{header}"}}
    price: {{input_per_mtok: 0.1, output_per_mtok: 0.2}}
"""


def config_text(base_url: str = "${UPSTREAM_URL}", header: str = "fixed") -> str:
    return TEMPLATE.format(base_url=base_url, header=header)


def test_values_come_from_the_environment_and_defaults_apply() -> None:
    loaded = parse_config(config_text(), environ={"UPSTREAM_URL": "http://127.0.0.1:9000/v1", "GW_PORT": "9090"})
    assert loaded.config.deployments[0].base_url == "http://127.0.0.1:9000/v1"
    assert loaded.config.server.port == 9090  # a string from the environment, validated as the field's type
    assert loaded.config.server.host == "127.0.0.1"


def test_a_missing_variable_without_default_names_the_path_line_and_variable() -> None:
    with pytest.raises(ConfigError) as exc:
        parse_config(config_text(), "gw.yaml", environ={})
    assert exc.value.problems == [
        "line 12: deployments[0].base_url: environment variable UPSTREAM_URL is not set "
        "(set it, or give a default: ${UPSTREAM_URL:-value})"
    ]


def test_substituted_values_are_validated_with_their_line() -> None:
    with pytest.raises(ConfigError) as exc:
        parse_config(config_text(), "gw.yaml", environ={"UPSTREAM_URL": "ftp://x", "GW_PORT": "eighty"})
    problems = "\n".join(exc.value.problems)
    assert "line 4: server.port: Input should be a valid integer" in problems
    assert "line 12: deployments[0].base_url" in problems


def test_malformed_placeholder_and_literal_escape() -> None:
    with pytest.raises(ConfigError) as exc:
        parse_config(config_text(base_url="http://${not a name}/v1"), environ={})
    assert "deployments[0].base_url: malformed placeholder ${not a name}" in exc.value.problems[0]
    loaded = parse_config(config_text(base_url="http://127.0.0.1/v1", header="$${kept}"), environ={})
    assert loaded.config.deployments[0].headers == {"x-gateway-token": "${kept}"}


def test_the_config_hash_never_depends_on_secrets_filled_into_headers() -> None:
    text = config_text(base_url="http://127.0.0.1/v1", header="Bearer ${UPSTREAM_TOKEN}")
    one = parse_config(text, environ={"UPSTREAM_TOKEN": "s3cret-one"})
    two = parse_config(text, environ={"UPSTREAM_TOKEN": "s3cret-two"})
    assert one.config.deployments[0].headers["x-gateway-token"] == "Bearer s3cret-one"
    assert one.hash == two.hash
    # other substituted values are what the gateway runs with, so they do move the hash
    moved = config_text(base_url="${UPSTREAM_URL}")
    assert (parse_config(moved, environ={"UPSTREAM_URL": "http://127.0.0.1:1/v1"}).hash
            != parse_config(moved, environ={"UPSTREAM_URL": "http://127.0.0.1:2/v1"}).hash)


def test_an_empty_variable_takes_the_default_as_in_the_shell() -> None:
    loaded = parse_config(config_text(base_url="${UPSTREAM_URL:-http://127.0.0.1:7/v1}"), environ={"UPSTREAM_URL": ""})
    assert loaded.config.deployments[0].base_url == "http://127.0.0.1:7/v1"
