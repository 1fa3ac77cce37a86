"""Economics end to end: virtual keys (401), budgets refused before the call (429), cost headers, the ledger."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import openai
import psycopg
import pytest
from gateway_harness import openai_deployment, running_gateway, with_test_defaults
from psycopg import sql
from services import pg_schema, postgres_url, redis_url  # noqa: F401  (fixtures)

from interlock.accounting.pricebook import PriceBook
from interlock.config.schema import GatewayConfig
from interlock.accounting.metering import Metering
from interlock.storage.database import open_database
from interlock.accounting.ledger import SqlLedgerStore


def _cli(db: Path | str, *args: str) -> str:
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
        "routes": [{"name": "premium", "candidates": ["frontier"]}],
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



# --- a key's model limit holds whatever route the request names ---


def _post(url: str, key: str, body: dict, **headers: str) -> httpx.Response:
    return httpx.post(url + "/v1/chat/completions", json=body, timeout=30,
                      headers={"authorization": f"Bearer {key}", **headers})


def test_a_route_header_cannot_reach_models_the_key_may_not_use(setup) -> None:
    url, db, _key, _poor, upstream = setup
    open_only = _cli(db, "create", "--team", "risk", "--models", "open").strip().splitlines()[-1]
    before = len(upstream.received)
    body = {"model": "open", "messages": [{"role": "user", "content": "route me somewhere dear"}]}
    resp = _post(url, open_only, body, **{"x-interlock-route": "premium"})
    assert resp.status_code == 403, resp.text
    error = resp.json()["error"]
    assert error["code"] == "model_not_allowed" and "premium" in error["message"] and "open" in error["message"]
    assert len(upstream.received) == before  # refused before anything was sent
    by_name = _post(url, open_only, {**body, "model": "premium"})
    assert by_name.status_code == 403 and by_name.json()["error"]["code"] == "model_not_allowed"


def test_a_routed_request_is_served_only_by_models_the_key_allows(setup) -> None:
    url, db, *_ = setup
    frontier_only = _cli(db, "create", "--team", "risk", "--models", "frontier").strip().splitlines()[-1]
    body = {"model": "frontier", "messages": [{"role": "user", "content": "which model answers"}]}
    # "auto" ranks the cheaper "open" first; this key may only reach "frontier"
    for resp in (_post(url, frontier_only, body, **{"x-interlock-route": "auto"}),
                 _post(url, frontier_only, {**body, "model": "auto"})):
        assert resp.status_code == 200, resp.text
        assert resp.headers["x-interlock-model"] == "frontier"


# --- admin endpoints need the admin key, with or without API keys ---


def test_admin_endpoints_need_the_admin_key_even_without_auth(openai_upstream, monkeypatch) -> None:
    _, up = openai_upstream
    monkeypatch.delenv("INTERLOCK_ADMIN_KEY", raising=False)
    with running_gateway({"deployments": [openai_deployment("open", up)]}) as (url, _runtime):
        for method, path in (("GET", "/admin/deployments"), ("GET", "/admin/config"), ("POST", "/admin/reload")):
            resp = httpx.request(method, url + path)
            assert resp.status_code == 403, (path, resp.text)
            assert "INTERLOCK_ADMIN_KEY" in resp.json()["error"]["message"]
        monkeypatch.setenv("INTERLOCK_ADMIN_KEY", "admin-secret-for-tests")
        assert httpx.get(url + "/admin/deployments").status_code == 401
        wrong = httpx.get(url + "/admin/deployments", headers={"authorization": "Bearer nope"})
        assert wrong.status_code == 401 and "nope" not in wrong.text
        right = httpx.get(url + "/admin/deployments", headers={"authorization": "Bearer admin-secret-for-tests"})
        assert right.status_code == 200, right.text


# --- revocation reaches every replica within a second ---


@pytest.fixture
def shared_database(postgres_url: str, pg_schema: str) -> str:  # noqa: F811
    """A PostgreSQL URL whose tables live in this test's own schema."""
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(pg_schema)))
    separator = "&" if "?" in postgres_url else "?"
    return f"{postgres_url}{separator}options=-csearch_path%3D{pg_schema}"


def test_a_revoked_key_is_refused_by_every_replica_within_a_second(
    openai_upstream, tmp_path: Path, shared_database: str, redis_url: str  # noqa: F811
) -> None:
    _, up = openai_upstream
    created = _cli(shared_database, "create", "--team", "replicas")
    key, [key_id] = created.strip().splitlines()[-1], re.findall(r"key_[0-9a-f]{12}", created)

    def replica(name: str) -> dict:
        return {
            "server": {"auth": True},
            "accounting": {"database_url": shared_database, "redis_url": redis_url},
            "audit_log": str(tmp_path / f"{name}-audit.db"),
            "deployments": [openai_deployment("open", up)],
        }

    body = {"model": "open", "messages": [{"role": "user", "content": "still allowed"}]}
    with running_gateway(replica("a")) as (url_a, _a), running_gateway(replica("b")) as (url_b, _b):
        assert [_post(u, key, body).status_code for u in (url_a, url_b)] == [200, 200]  # both cache the key now
        _cli(shared_database, "revoke", key_id)
        time.sleep(1.0)
        refused = [_post(u, key, body) for u in (url_a, url_b)]
        assert [r.status_code for r in refused] == [401, 401], [r.text for r in refused]


# --- processes that share a ledger but not their budgets are told so at start ---


async def test_a_second_process_on_the_ledger_without_shared_budgets_is_warned(
    openai_upstream, tmp_path: Path, redis_url: str  # noqa: F811
) -> None:
    _, up = openai_upstream

    def metering(name: str, redis: str | None) -> Metering:
        config = GatewayConfig.model_validate(with_test_defaults({
            "accounting": {"database_url": str(tmp_path / "ledger.db"), "redis_url": redis},
            "deployments": [openai_deployment("open", up)],
        }))
        return Metering(config, PriceBook(config), instance_id=name)

    said: dict[str, list[str]] = {"a": [], "b": [], "c": [], "d": []}
    first, second = metering("a", None), metering("b", None)
    try:
        await first.start(said["a"].append)
        await second.start(said["b"].append)
    finally:
        await second.aclose()
        await first.aclose()
    assert said["a"] == []
    [warning] = said["b"]
    assert "budgets are not shared" in warning and "accounting.redis_url" in warning

    third, fourth = metering("c", redis_url), metering("d", redis_url)
    try:
        await third.start(said["c"].append)
        await fourth.start(said["d"].append)
    finally:
        await fourth.aclose()
        await third.aclose()
    assert said["c"] == said["d"] == []  # one Redis: budgets hold across both
