"""Economics end to end: virtual keys (401), budgets refused before the call (429), cost headers, the ledger."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import openai
import pytest
from gateway_harness import openai_deployment, running_gateway

from interlock.storage.database import open_database
from interlock.storage.ledger import SqlLedgerStore


def _cli(db: Path, *args: str) -> str:
    run = subprocess.run([sys.executable, "-m", "interlock.cli.main", "keys", *args, "--db", str(db)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return run.stdout


@pytest.fixture(scope="module")
def setup(openai_upstream, tmp_path_factory) -> Iterator[tuple[str, Path, str, str, object]]:
    upstream, up = openai_upstream
    db = tmp_path_factory.mktemp("ledger") / "interlock.db"
    rich_key = _cli(db, "create", "--team", "risk").strip().splitlines()[-1]
    # 10 prompt words + max_tokens 1000 at $2/Mtok output costs at most ~$0.002: a $0.001 budget refuses it.
    poor_key = _cli(db, "create", "--team", "ops", "--budget-usd", "0.001").strip().splitlines()[-1]
    config = {
        "server": {"auth": True},
        "accounting": {"database_url": str(db), "baseline_model": "frontier"},
        "deployments": [
            openai_deployment("open", up, price={"input_per_mtok": 0.1, "output_per_mtok": 0.2}, open_weight=True,
                              perimeter="internal"),
            openai_deployment("frontier", up, price={"input_per_mtok": 2.0, "output_per_mtok": 8.0}),
        ],
    }
    with running_gateway(config) as (url, runtime):
        yield url, db, rich_key, poor_key, upstream


def test_requests_without_a_valid_key_get_401(setup) -> None:
    url, *_ = setup
    body = {"model": "open", "messages": [{"role": "user", "content": "hi"}]}
    for headers in ({}, {"authorization": "Bearer il-not-a-real-key"}):
        resp = httpx.post(url + "/v1/chat/completions", json=body, headers=headers)
        assert resp.status_code == 401
        assert resp.json()["error"]["type"] == "authentication_error"
        assert "il-not-a-real-key" not in resp.text


def test_cost_and_baseline_headers(setup) -> None:
    url, _db, key, _poor, _up = setup
    client = openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0)
    raw = client.chat.completions.with_raw_response.create(
        model="open", messages=[{"role": "user", "content": "one two three"}])
    raw.parse()
    cost, baseline = Decimal(raw.headers["x-interlock-cost-usd"]), Decimal(raw.headers["x-interlock-baseline-cost-usd"])
    # upstream usage: 3 prompt tokens, 4 completion tokens ("echo: one two three")
    assert cost == (3 * Decimal("0.1") + 4 * Decimal("0.2")) / 1_000_000
    assert baseline == (3 * Decimal("2.0") + 4 * Decimal("8.0")) / 1_000_000


def test_budget_refuses_before_the_call(setup) -> None:
    url, _db, _key, poor, upstream = setup
    before = len(upstream.received)
    client = openai.OpenAI(base_url=url + "/v1", api_key=poor, max_retries=0)
    with pytest.raises(openai.RateLimitError) as exc:
        client.chat.completions.create(model="frontier", messages=[{"role": "user", "content": "expensive question"}],
                                       max_tokens=1000)
    assert exc.value.body["code"] == "budget_exceeded"
    assert "resets" in exc.value.body["message"]
    assert len(upstream.received) == before  # refused before anything was sent


def test_every_request_lands_in_the_ledger(setup) -> None:
    url, db, key, _poor, _up = setup
    client = openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0)
    client.chat.completions.create(model="frontier", messages=[{"role": "user", "content": "ledger me"}])
    stream = client.chat.completions.create(model="open", messages=[{"role": "user", "content": "stream me"}], stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "echo: stream me"
    # the writer flushes at least every second
    import time

    deadline = time.monotonic() + 10
    rows: list = []
    while time.monotonic() < deadline:
        store = SqlLedgerStore(open_database(str(db)))
        rows = store.spend(by="model")
        store.close()
        if {r.group for r in rows} >= {"open", "frontier"} and sum(r.requests for r in rows) >= 3:
            break
        time.sleep(0.3)
    by_model = {r.group: r for r in rows}
    assert by_model["frontier"].cost_usd > 0 and by_model["open"].baseline_cost_usd > by_model["open"].cost_usd
