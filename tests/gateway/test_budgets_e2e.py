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
import redis
from gateway_harness import openai_deployment, running_gateway
from services import redis_url  # noqa: F401  (fixture)

from interlock.accounting import PerTokenPrice, max_cost_usd
from interlock.compliance.audit import AuditLog
from interlock.gateway.runtime import Runtime
from interlock.routing.tokens import count_messages
from interlock.storage.database import open_database
from interlock.accounting.keys import SqlKeyStore
from interlock.accounting.ledger import SqlLedgerStore

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
            openai_deployment("long", up, max_output_tokens=20_000, context_window=32_768,
                              price={"input_per_mtok": 1, "output_per_mtok": 1}),
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
        "tenner": create_key(db, "--team", "tenner", "--budget-usd", "0.01"),
        "roomy": create_key(db, "--team", "roomy", "--budget-usd", str(PROBE_MAX * D("1.5"))),
        "choices": create_key(db, "--team", "choices", "--budget-usd", str(PROBE_MAX * D("1.5"))),
        "pauper": create_key(db, "--team", "pauper", "--budget-usd", "0.0000001"),
        "one-a-minute": create_key(db, "--team", "steady", "--rpm", "1"),
        "embedder": create_key(db, "--team", "embedder", "--budget-usd", "1"),
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


# --- the reservation covers the real maximum: tool schemas, n choices, the deployment's output limit ---

TOOL_FIELDS = {
    f"field_{i}": {"type": "string", "description": f"the {i}th property the model must fill with a long answer"}
    for i in range(30)
}
TOOLS = [{"type": "function", "function": {"name": "lookup", "description": "Look a record up by its fields.",
                                           "parameters": {"type": "object", "properties": TOOL_FIELDS}}}]


def test_tool_schemas_count_in_the_reservation(gateway: Gateway, openai_upstream) -> None:
    """The schema is prompt text the upstream bills: a budget that fits the messages alone refuses the call."""
    upstream, _ = openai_upstream
    before = len(upstream.received)
    resp = gateway.post("roomy", {"model": "priced", "messages": PROBE, "max_tokens": MAX_TOKENS, "tools": TOOLS})
    assert resp.status_code == 429 and resp.json()["error"]["code"] == "budget_exceeded", resp.text
    schema = {"name": "record", "schema": {"type": "object", "properties": TOOL_FIELDS}}
    format_only = {"model": "priced", "messages": PROBE, "max_tokens": MAX_TOKENS,
                   "response_format": {"type": "json_schema", "json_schema": schema}}
    resp = gateway.post("roomy", format_only)
    assert resp.status_code == 429 and resp.json()["error"]["code"] == "budget_exceeded", resp.text
    assert len(upstream.received) == before  # refused before anything was sent


def test_n_choices_multiply_the_reserved_output(gateway: Gateway, openai_upstream) -> None:
    upstream, _ = openai_upstream
    before = len(upstream.received)
    resp = gateway.post("choices", {"model": "priced", "messages": PROBE, "max_tokens": MAX_TOKENS, "n": 50})
    assert resp.status_code == 429 and resp.json()["error"]["code"] == "budget_exceeded", resp.text
    assert "may cost up to" in resp.json()["error"]["message"]
    assert len(upstream.received) == before
    assert gateway.post("choices", {"model": "priced", "messages": PROBE, "max_tokens": MAX_TOKENS}).status_code == 200


def test_without_max_tokens_the_deployments_output_limit_is_reserved(gateway: Gateway) -> None:
    # "long" may write 20,000 tokens when the request sets no limit: $0.02 at $1/Mtok, over the key's $0.01
    resp = gateway.post("tenner", {"model": "long", "messages": PROBE})
    assert resp.status_code == 429 and resp.json()["error"]["code"] == "budget_exceeded", resp.text
    capped = gateway.post("tenner", {"model": "long", "messages": PROBE, "max_tokens": 100})
    assert capped.status_code == 200, capped.text


# --- embeddings are metered like chat ---


def test_embeddings_are_held_to_budgets_and_rate_limits(gateway: Gateway, openai_upstream) -> None:
    upstream, _ = openai_upstream
    body = {"model": "priced", "input": ["one two three", "four five"]}

    def embed(key: str) -> httpx.Response:
        return httpx.post(gateway.url + "/v1/embeddings", json=body, timeout=30,
                          headers={"authorization": f"Bearer {gateway.keys[key][0]}"})

    before = len(upstream.received)
    poor = embed("pauper")
    assert poor.status_code == 429 and poor.json()["error"]["code"] == "budget_exceeded", poor.text
    assert len(upstream.received) == before  # refused before anything was sent

    first, second = embed("one-a-minute"), embed("one-a-minute")
    assert first.status_code == 200, first.text
    assert second.status_code == 429 and second.json()["error"]["code"] == "rate_limit_exceeded", second.text

    served = embed("embedder")
    assert served.status_code == 200, served.text
    key_id = gateway.keys["embedder"][1]
    [status] = asyncio.run(gateway.runtime.metering.budgets.status(key_id, "embedder"))
    assert status.spent_usd == D(served.headers["x-interlock-cost-usd"]) > 0 and status.held_usd == 0


# --- failures never leak a hold, and a malformed 200 is a recorded 502 ---

FAULT_KINDS = ("500", "429", "400", "hang", "malformed", "wrong-type", "cut", "bad-usage", "bad-choices")


@pytest.fixture(scope="module")
def faulty(openai_upstream, tmp_path_factory) -> Iterator[Gateway]:
    _, up = openai_upstream
    db = tmp_path_factory.mktemp("faults") / "interlock.db"
    keys = {"faulty": create_key(db, "--team", "faulty", "--budget-usd", "1"),
            "chaos": create_key(db, "--team", "chaos", "--budget-usd", "1")}
    price = PRICED.model_dump()
    faults = [openai_deployment(f"fault-{kind}", up, upstream_model=f"fault-{kind}", price=price,
                                timeouts={"total": 1.0}) for kind in FAULT_KINDS]
    config = {
        "server": {"auth": True},
        "accounting": {"database_url": str(db)},
        "audit_log": str(db.with_name("audit.db")),
        "resilience": {"retry": {"max_attempts": 1}},
        "deployments": [openai_deployment("priced", up, price=price), *faults],
    }
    with running_gateway(config) as (url, runtime):
        yield Gateway(url, runtime, db, keys)


def _audited(gw: Gateway, request_ids: set[str]) -> set[str]:
    """The request ids among ``request_ids`` that have an audit record (the writer batches for 50 ms)."""
    deadline = time.monotonic() + 10
    while True:
        log = AuditLog(gw.db.with_name("audit.db"))
        found = {r.request_id for r in log.records()} & request_ids
        log.close()
        if found == request_ids or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_a_malformed_upstream_answer_is_a_recorded_502(faulty: Gateway) -> None:
    key, key_id = faulty.keys["faulty"]
    ids = set()
    for kind in ("bad-usage", "bad-choices"):
        body = {"model": f"fault-{kind}", "messages": PROBE, "max_tokens": MAX_TOKENS}
        resp = faulty.post("faulty", body)
        assert resp.status_code == 502, resp.text
        assert resp.json()["error"]["code"] == "upstream_malformed_response"
        anthropic = httpx.post(faulty.url + "/v1/messages", timeout=30, headers={"x-api-key": key},
                               json={**body, "messages": [{"role": "user", "content": "budget probe"}]})
        assert anthropic.status_code == 502, anthropic.text
        assert anthropic.json()["type"] == "error" and anthropic.json()["error"]["type"] == "api_error"
        ids |= {resp.headers["x-request-id"], anthropic.headers["x-request-id"]}
    rows = faulty.ledger_rows(f"request_id IN ({', '.join('?' for _ in ids)})", tuple(ids), len(ids))
    assert {row[0] for row in rows} == ids
    assert {row[1] for row in rows} == {"upstream_malformed_response"}
    assert _audited(faulty, ids) == ids
    [status] = asyncio.run(faulty.runtime.metering.budgets.status(key_id, "faulty"))
    assert status.held_usd == 0


def test_no_failure_kind_leaks_a_budget_hold(faulty: Gateway) -> None:
    key_id = faulty.keys["chaos"][1]
    budgets = faulty.runtime.metering.budgets
    for kind in FAULT_KINDS:
        for stream in (False, True):
            body = {"model": f"fault-{kind}", "messages": PROBE, "max_tokens": MAX_TOKENS, "stream": stream}
            resp = faulty.post("chaos", body)
            failed = resp.status_code >= 400 or "error" in resp.text
            assert failed or (kind, stream) == ("cut", False), f"{kind} (stream={stream}) passed: {resp.text[:300]}"
            [status] = asyncio.run(budgets.status(key_id, "chaos"))
            assert status.held_usd == 0, f"{kind} (stream={stream}) left ${status.held_usd} held"
    ok = faulty.post("chaos", {"model": "priced", "messages": PROBE, "max_tokens": MAX_TOKENS})
    assert ok.status_code == 200, ok.text


def test_budget_counters_lost_by_redis_are_seeded_from_the_ledger(openai_upstream, tmp_path: Path,
                                                                    redis_url: str) -> None:  # noqa: F811
    _, up = openai_upstream
    db = tmp_path / "seeded.db"
    key, key_id = create_key(db, "--team", "seeded", "--budget-usd", str(PROBE_MAX * D("1.5")))
    config = gateway_config(db, up)
    config["accounting"]["redis_url"] = redis_url
    body = {"model": "priced", "messages": PROBE, "max_tokens": MAX_TOKENS}
    with running_gateway(config) as (url, runtime):
        gw = Gateway(url, runtime, db, {"seeded": (key, key_id)})
        assert gw.post("seeded", body).status_code == 200
        assert gw.post("seeded", body).status_code == 429
        assert len(gw.ledger_rows("key_id = ?", (key_id,), 1)) == 1
        client = redis.Redis.from_url(redis_url)
        try:
            counters = client.keys(f"interlock:budget:key:{key_id}:*")
            assert counters
            client.delete(*counters)  # what a Redis restarted without persistence holds for this key
            again = gw.post("seeded", body)
            assert again.status_code == 429, "the period's spend was handed out again"
            [spent] = [client.get(k) for k in client.keys(f"interlock:budget:key:{key_id}:*:spent")]
            assert D(int(spent)) / 10**9 == PROBE_COST
        finally:
            client.delete(*client.keys(f"interlock:budget:key:{key_id}:*"))
            client.close()
