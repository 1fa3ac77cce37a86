"""deploy/compose.yaml: the gateway on PostgreSQL and Redis, started in order, secrets kept out of it."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from interlock.config.load import parse_config

from .paths import DEPLOY, REPO_ROOT

COMPOSE_FILE = DEPLOY / "compose.yaml"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict)
    return data


def test_three_services_each_with_a_healthcheck(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"gateway", "postgres", "redis"}
    for name, service in services.items():
        check = service.get("healthcheck")
        assert check and check["test"][0] in ("CMD", "CMD-SHELL"), f"{name} has no healthcheck"
    assert "/readyz" in " ".join(services["gateway"]["healthcheck"]["test"])


def test_the_gateway_starts_after_its_storage_is_healthy(compose: dict[str, Any]) -> None:
    depends = compose["services"]["gateway"]["depends_on"]
    assert depends == {"postgres": {"condition": "service_healthy"}, "redis": {"condition": "service_healthy"}}


def test_the_gateway_builds_from_the_repository_dockerfile(compose: dict[str, Any]) -> None:
    build = compose["services"]["gateway"]["build"]
    context = (COMPOSE_FILE.parent / build["context"]).resolve()
    assert context == REPO_ROOT and (context / build["dockerfile"]).is_file()


def test_the_mounted_gateway_config_exists_and_is_valid(compose: dict[str, Any]) -> None:
    gateway = compose["services"]["gateway"]
    mounts = dict(volume.split(":")[1::-1] for volume in gateway["volumes"] if volume.startswith("./"))
    config_target = gateway["environment"]["INTERLOCK_CONFIG"]
    source = (COMPOSE_FILE.parent / mounts[config_target]).resolve()
    loaded = parse_config(source.read_text(), source=str(source), environ={})
    assert loaded.config.server.auth
    assert loaded.config.accounting.redis_url == "redis://redis:6379/0"
    assert loaded.config.accounting.database_url is None  # INTERLOCK_DB_URL from the environment decides


def test_secrets_are_files_outside_git_and_reach_the_gateway_by_file(compose: dict[str, Any]) -> None:
    secrets = compose["secrets"]
    for name, secret in secrets.items():
        path = (COMPOSE_FILE.parent / secret["file"]).resolve()
        assert path.parent == DEPLOY / "secrets", name
    ignore = (DEPLOY / "secrets" / ".gitignore").read_text().split()
    assert "*" in ignore
    gateway = compose["services"]["gateway"]
    env = gateway["environment"]
    assert env["INTERLOCK_ADMIN_KEY_FILE"] == "/run/secrets/interlock_admin_key"
    assert env["PGPASSWORD_FILE"] == "/run/secrets/postgres_password"
    assert set(gateway["secrets"]) == set(secrets)
    assert compose["services"]["postgres"]["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres_password"


def test_no_credential_is_written_into_the_file(compose: dict[str, Any]) -> None:
    env = compose["services"]["gateway"]["environment"]
    assert "@" in env["INTERLOCK_DB_URL"] and ":" not in env["INTERLOCK_DB_URL"].split("//", 1)[1].split("@")[0]
    for name, value in env.items():
        if name.endswith("_API_KEY"):
            assert re.fullmatch(r"\$\{" + name + r":-\}", value), f"{name} must come from the environment"


def test_storage_is_not_published_on_the_host(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert "ports" not in services["postgres"] and "ports" not in services["redis"]
    (published,) = services["gateway"]["ports"]
    assert published.startswith("${INTERLOCK_PUBLISH:-127.0.0.1:8080}")
