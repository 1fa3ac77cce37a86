"""Budgets and exact costs through a running gateway with keys: concurrency, failures, streams, cache hits.

Token counts come from the loopback upstream (one token per word: "echo: a b" is 3 completion
tokens); prices are chosen so every cost has few decimals and can be compared exactly.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from gateway_harness import openai_deployment, running_gateway

from interlock.accounting import PerTokenPrice, max_cost_usd
from interlock.gateway.runtime import Runtime
from interlock.routing.tokens import count_messages
from interlock.storage.database import open_database
from interlock.storage.keys import SqlKeyStore
from interlock.storage.ledger import SqlLedgerStore

D = Decimal
MTOK = 1_000_000
PRICED = PerTokenPrice(input_per_mtok=D(100), output_per_mtok=D(1000))  # "priced" and "broken"
PROBE = [{"role": "user", "content": "budget probe"}]  # upstream: 2 prompt, 3 completion tokens
PROBE_COST = (2 * D(100) + 3 * D(1000)) / MTOK
MAX_TOKENS = 3  # the reservation is then close to the actual cost, which makes overspend easy to see
PROBE_MAX = max_cost_usd(count_messages(PROBE), MAX_TOKENS, PRICED)  # what the gateway reserves per call
assert PROBE_MAX is not None and PROBE_MAX >= PROBE_COST


def create_key(db: Path, *args: str) -> tuple[str, str]:
    """``interlock keys create``: the printed key and its id."""
    command = [sys.executable, "-m", "interlock.cli.main", "keys", "create", *args, "--db", str(db)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    secret = run.stdout.strip().splitlines()[-1]
    database = open_database(str(db))
    key = SqlKeyStore(database).lookup(secret)
    database.close()
    assert key is not None
    return secret, key.key_id


def gateway_config(db: Path, up: str) -> dict[str, Any]:
    closed = {"tools": True}  # not an embeddings deployment: a candidate baseline
    return {
        "server": {"auth": True},
        "accounting": {"database_url": str(db), "baseline_model": "frontier"},
        "resilience": {"retry": {"max_attempts": 1}},
        "deployments": [
            openai_deployment("priced", up, price=PRICED.model_dump()),
            openai_deployment("broken", up, upstream_model="fault-500", price=PRICED.model_dump()),
            openai_deployment(
                "open",
                up,
                open_weight=True,
                perimeter="internal",
                price={"input_per_mtok": 0.1, "output_per_mtok": 0.2},
            ),
            openai_deployment(
                "cached",
                up,
                upstream_model="cached-2",
                open_weight=True,
                perimeter="internal",
                price={"input_per_mtok": 1.0, "cached_input_per_mtok": 0.25, "output_per_mtok": 2.0},
            ),
            openai_deployment(
                "frontier",
                up,
                capabilities=closed,
                price={"input_per_mtok": 2.0, "cached_input_per_mtok": 0.5, "output_per_mtok": 8.0},
            ),
        ],
    }


@dataclass
class Gateway:
    url: str
    runtime: Runtime
    db: Path
    keys: dict[str, tuple[str, str]]  # name -> (key, key id)

    def post(self, key: str, body: dict[str, Any]) -> httpx.Response:
        return httpx.post(
            self.url + "/v1/chat/completions",
            json=body,
            timeout=30,
            headers={"authorization": f"Bearer {self.keys[key][0]}"},
        )

    def ledger_rows(self, where: str, params: tuple[Any, ...], expected: int) -> list[tuple[Any, ...]]:
        """Rows of ``usage_records`` matching ``where``, waiting for the writer (it flushes every second)."""
        deadline = time.monotonic() + 10
        while True:
            database = open_database(str(self.db))
            rows = database.fetchall(
                "SELECT request_id, status, prompt_tokens, completion_tokens, cached_tokens, "
                f"usage_estimated, cost_usd, baseline_cost_usd FROM usage_records WHERE {where}",
                params,
            )
            database.close()
            if len(rows) >= expected or time.monotonic() > deadline:
                return rows
            time.sleep(0.2)


@pytest.fixture(scope="module")
def gateway(openai_upstream, tmp_path_factory) -> Iterator[Gateway]:
    _, up = openai_upstream
    db = tmp_path_factory.mktemp("budgets") / "interlock.db"
    keys = {
        "plain": create_key(db, "--team", "cost"),
        "crowd": create_key(db, "--team", "crowd", "--budget-usd", "0.05"),
        "fragile": create_key(db, "--team", "fragile", "--budget-usd", str(PROBE_MAX * D("1.5"))),
    }
    with running_gateway(gateway_config(db, up)) as (url, runtime):
        yield Gateway(url, runtime, db, keys)


async def _crowd(gw: Gateway, n: int, concurrency: int) -> list[httpx.Response]:
    limit = asyncio.Semaphore(concurrency)
    body = {"model": "priced", "messages": PROBE, "max_tokens": MAX_TOKENS}
    headers = {"authorization": f"Bearer {gw.keys['crowd'][0]}"}
    async with httpx.AsyncClient(
        base_url=gw.url, timeout=30, headers=headers, limits=httpx.Limits(max_connections=concurrency)
    ) as client:

        async def one() -> httpx.Response:
            async with limit:
                return await client.post("/v1/chat/completions", json=body)

        return await asyncio.wait_for(asyncio.gather(*(one() for _ in range(n))), timeout=120)


def test_concurrent_requests_overspend_by_at_most_one_maximum_cost(gateway: Gateway) -> None:
    limit = D("0.05")
    responses = asyncio.run(_crowd(gateway, 100, concurrency=25))
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {200, 429}, statuses
    refused = [r for r in responses if r.status_code == 429]
    assert refused and all(r.json()["error"]["code"] == "budget_exceeded" for r in refused)
    served = statuses.count(200)
    assert served >= limit // PROBE_MAX  # the budget was really used, not refused wholesale

    key_id = gateway.keys["crowd"][1]
    rows = gateway.ledger_rows("key_id = ? AND status = 'ok'", (key_id,), served)
    assert len(rows) == served
    spent = sum((D(str(row[6])) for row in rows), D(0))
    assert spent == served * PROBE_COST
    assert spent <= limit + PROBE_MAX
    [status] = asyncio.run(gateway.runtime.metering.budgets.status(key_id, "crowd"))
    assert status.spent_usd == spent and status.held_usd == 0


def test_a_failed_call_releases_its_reservation(gateway: Gateway) -> None:
    key, key_id = gateway.keys["fragile"]
    budget = PROBE_MAX * D("1.5")  # one call's reservation fits; two do not
    budgets = gateway.runtime.metering.budgets
    for stream in (False, True):
        failed = gateway.post(
            "fragile", {"model": "broken", "messages": PROBE, "max_tokens": MAX_TOKENS, "stream": stream}
        )
        assert failed.status_code >= 500, failed.text
        [status] = asyncio.run(budgets.status(key_id, "fragile"))
        assert (status.spent_usd, status.held_usd, status.budget.limit_usd) == (0, 0, budget)
    ok = gateway.post("fragile", {"model": "priced", "messages": PROBE, "max_tokens": MAX_TOKENS})
    assert ok.status_code == 200, ok.text  # a leaked hold would have left no room for this call
    again = gateway.post("fragile", {"model": "priced", "messages": PROBE, "max_tokens": MAX_TOKENS})
    assert again.status_code == 429 and again.json()["error"]["code"] == "budget_exceeded"
    assert key not in again.text


def test_streamed_cost_is_in_the_ledger_not_the_headers(gateway: Gateway) -> None:
    body = {"model": "open", "messages": [{"role": "user", "content": "stream the same tokens"}]}
    plain = gateway.post("plain", body)
    expected = (4 * D("0.1") + 5 * D("0.2")) / MTOK  # "echo: stream the same tokens"
    assert D(plain.headers["x-interlock-cost-usd"]) == expected
    assert D(plain.headers["x-interlock-baseline-cost-usd"]) == (4 * D(2) + 5 * D(8)) / MTOK

    streamed = gateway.post("plain", {**body, "stream": True})
    assert streamed.status_code == 200 and streamed.text.rstrip().endswith("data: [DONE]")
    assert "x-interlock-cost-usd" not in streamed.headers
    assert "x-interlock-baseline-cost-usd" not in streamed.headers
    rid = streamed.headers["x-request-id"]
    [row] = gateway.ledger_rows("request_id = ?", (rid,), 1)
    assert row[2:6] == (4, 5, 0, 0)  # upstream usage, not a local estimate
    assert D(str(row[6])) == expected and D(str(row[7])) == (4 * D(2) + 5 * D(8)) / MTOK


def test_cached_input_is_priced_exactly(gateway: Gateway) -> None:
    body = {"model": "cached", "messages": [{"role": "user", "content": "one two three"}]}
    # 3 prompt tokens of which 2 cached, 4 completion tokens ("echo: one two three")
    cost = (1 * D(1) + 2 * D("0.25") + 4 * D(2)) / MTOK
    baseline = (1 * D(2) + 2 * D("0.5") + 4 * D(8)) / MTOK  # the baseline sees the same cache hits
    plain = gateway.post("plain", body)
    assert (D(plain.headers["x-interlock-cost-usd"]), D(plain.headers["x-interlock-baseline-cost-usd"])) == (
        cost,
        baseline,
    )
    streamed = gateway.post("plain", {**body, "stream": True})
    rows = gateway.ledger_rows(
        "request_id IN (?, ?)", (plain.headers["x-request-id"], streamed.headers["x-request-id"]), 2
    )
    assert len(rows) == 2
    for row in rows:
        assert row[2:6] == (3, 4, 2, 0)
        assert (D(str(row[6])), D(str(row[7]))) == (cost, baseline)


def test_spend_survives_a_restart(openai_upstream, tmp_path: Path) -> None:
    _, up = openai_upstream
    db = tmp_path / "restart.db"
    key, key_id = create_key(db, "--team", "restart", "--budget-usd", str(PROBE_MAX * D("1.5")))
    body = {"model": "priced", "messages": PROBE, "max_tokens": MAX_TOKENS}
    headers = {"authorization": f"Bearer {key}"}
    with running_gateway(gateway_config(db, up)) as (url, _runtime):
        assert httpx.post(url + "/v1/chat/completions", json=body, headers=headers).status_code == 200
        assert httpx.post(url + "/v1/chat/completions", json=body, headers=headers).status_code == 429
    store = SqlLedgerStore(open_database(str(db)))
    assert store.count() == 1  # the call that was served, flushed at shutdown
    store.close()
    with running_gateway(gateway_config(db, up)) as (url, runtime):
        again = httpx.post(url + "/v1/chat/completions", json=body, headers=headers)
        assert again.status_code == 429, "the month's spend was forgotten at restart"
        [status] = asyncio.run(runtime.metering.budgets.status(key_id, "restart"))
        assert status.spent_usd == PROBE_COST
