"""A real gateway with the console on, fed real traffic through a loopback OpenAI-format upstream."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from services import database, pg_schema, postgres_url  # noqa: F401  (fixtures)
from gateway_harness import openai_deployment, running_gateway

from interlock.gateway.runtime import Runtime
from interlock.storage.database import default_sqlite_path
from interlock.accounting.keys import SqlKeyStore

ADMIN_ENV = "INTERLOCK_TEST_CONSOLE_ADMIN_KEY"
ADMIN_KEY = "console-admin-secret-0123456789"


@dataclass
class Gateway:
    url: str
    runtime: Runtime
    client_key: str

    def signed_in(self) -> httpx.Client:
        """A browser-like client: signed in through the form, holding the session cookie."""
        client = httpx.Client(base_url=self.url, follow_redirects=False, timeout=30)
        resp = client.post("/console/login", data={"admin_key": ADMIN_KEY}, headers={"origin": self.url})
        assert resp.status_code == 303, resp.text
        return client

    def csrf(self, client: httpx.Client) -> str:
        page = client.get("/console/keys").text
        return page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]


def chat(url: str, key: str, model: str, text: str) -> httpx.Response:
    return httpx.post(
        url + "/v1/chat/completions",
        headers={"authorization": f"Bearer {key}"},
        timeout=30,
        json={"model": model, "messages": [{"role": "user", "content": text}], "max_tokens": 20},
    )


def wait_for_ledger(gateway: Gateway, at_least: int) -> dict[str, Any]:
    """The ledger writer flushes about once a second: poll the overview until the traffic shows."""
    deadline = time.monotonic() + 15
    headers = {"authorization": f"Bearer {ADMIN_KEY}"}
    while True:
        data = httpx.get(gateway.url + "/console/api/overview?days=1", headers=headers, timeout=30).json()
        if data["totals"]["requests"] >= at_least or time.monotonic() > deadline:
            return data
        time.sleep(0.2)


def write_suite(name: str, items: int, text: str) -> None:
    """A small suite of ``contains`` items in the data dir, where the console finds suites."""
    folder = default_sqlite_path().parent / "suites"
    folder.mkdir(parents=True, exist_ok=True)
    lines = [{"suite": {"name": name, "version": "1"}}]
    for k in range(items):
        lines.append(
            {
                "id": f"item-{k}",
                "category": ["extraction", "classification"][k % 2],
                "messages": [{"role": "user", "content": f"{text} {k}"}],
                "scorer": "contains",
                "expected": ["echo"],
                "max_tokens": 20,
            }
        )
    (folder / f"{name}.jsonl").write_text("\n".join(json.dumps(line) for line in lines) + "\n")


@pytest.fixture(scope="module")
def gateway(openai_upstream, tmp_path_factory) -> Iterator[Gateway]:
    _, up = openai_upstream
    os.environ[ADMIN_ENV] = ADMIN_KEY
    config = {
        "server": {"auth": True, "admin_key_env": ADMIN_ENV},
        "accounting": {"baseline_model": "frontier", "teams": [{"team": "research", "budget_usd": 5}]},
        "routes": [{"name": "premium", "candidates": ["frontier"]}],
        "aliases": [
            {
                "name": "assistant",
                "targets": [{"model": "small", "weight": 90}, {"model": "frontier", "weight": 10}],
                "shadow": {"model": "mirror", "share": 1.0},
            }
        ],
        "lifecycle": [
            {
                "model": "mirror",
                "deprecated_after": "2026-01-01",
                "sunset": "2099-01-01",
                "successor": "frontier",
            }
        ],
        "deployments": [
            openai_deployment(
                "small",
                up,
                price={"input_per_mtok": 0.1, "output_per_mtok": 0.2},
                open_weight=True,
                perimeter="internal",
                region="eu-west",
            ),
            openai_deployment(
                "frontier", up, price={"input_per_mtok": 2.0, "output_per_mtok": 8.0}, region="us-east"
            ),
            openai_deployment(
                "mirror", up, price={"input_per_mtok": 0.5, "output_per_mtok": 1.0}, region="us-east"
            ),
        ],
    }
    try:
        with running_gateway(config, str(tmp_path_factory.mktemp("console"))) as (url, runtime):
            db = runtime.metering.db
            assert db is not None
            key = SqlKeyStore(db).create("research", budget_usd=None).secret
            other = SqlKeyStore(db).create("support").secret
            sent = 0
            for k, text in enumerate(
                [
                    "summarise this memo",
                    "classify: refund request",
                    "translate hello",
                    "extract the date from 3 May 2026",
                    "write a haiku",
                ]
            ):
                for model in ("small", "frontier", "premium", "auto", "assistant"):
                    assert chat(url, key if k % 2 else other, model, text).status_code == 200
                    sent += 1
            # a sensitive value: the default policy keeps it inside the perimeter (the audit log shows it)
            assert chat(url, key, "auto", "email jane.doe@example.com the invoice").status_code == 200
            sent += 1
            gw = Gateway(url, runtime, key)
            wait_for_ledger(gw, sent)
            yield gw
    finally:
        os.environ.pop(ADMIN_ENV, None)
