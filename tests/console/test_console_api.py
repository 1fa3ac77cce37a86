"""The console's HTTP surface on a real gateway: sign-in, CSRF, every data endpoint, keys, audit verify."""

from __future__ import annotations

import os
import time

import httpx

from console.conftest import ADMIN_ENV, ADMIN_KEY, Gateway, chat

BEARER = {"authorization": f"Bearer {ADMIN_KEY}"}


def test_pages_need_a_session_and_the_login_sets_a_strict_httponly_cookie(gateway: Gateway) -> None:
    anonymous = httpx.get(gateway.url + "/console/overview", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/console/login"
    assert httpx.get(gateway.url + "/console/api/overview").status_code == 401
    wrong = httpx.post(gateway.url + "/console/login", data={"admin_key": "guess"})
    assert wrong.status_code == 401 and "not the admin key" in wrong.text
    resp = httpx.post(gateway.url + "/console/login", data={"admin_key": ADMIN_KEY}, follow_redirects=False)
    cookie = resp.headers["set-cookie"].lower()
    assert (
        resp.status_code == 303
        and "httponly" in cookie
        and "samesite=strict" in cookie
        and "path=/console" in cookie
    )
    page = gateway.signed_in().get("/console/overview")
    assert page.status_code == 200 and "script-src 'self'" in page.headers["content-security-policy"]
    assert "<script>" not in page.text  # no inline script: the policy forbids it


def test_a_cross_site_login_post_is_refused(gateway: Gateway) -> None:
    resp = httpx.post(
        gateway.url + "/console/login",
        data={"admin_key": ADMIN_KEY},
        headers={"origin": "https://evil.example"},
    )
    assert resp.status_code == 403 and "set-cookie" not in resp.headers


def test_state_changes_need_the_csrf_token(gateway: Gateway) -> None:
    client = gateway.signed_in()
    assert client.post("/console/api/keys", json={"team": "x"}).status_code == 403
    token = gateway.csrf(client)
    forged = client.post(
        "/console/api/keys",
        json={"team": "x"},
        headers={"x-csrf-token": token, "origin": "https://evil.example"},
    )
    assert forged.status_code == 403
    ok = client.post("/console/api/keys", json={"team": "csrf-ok"}, headers={"x-csrf-token": token})
    assert ok.status_code == 201


def test_overview_totals_match_the_traffic_sent(gateway: Gateway) -> None:
    data = httpx.get(gateway.url + "/console/api/overview?days=1&by=model", headers=BEARER).json()
    assert data["ledger"] and data["by"] == "model" and data["bucket"] == "hour"
    totals = data["totals"]
    assert totals["requests"] >= 20 and totals["errors"] == 0
    assert 0 < totals["cost_usd"] < totals["baseline_cost_usd"]
    assert abs(totals["savings_usd"] - (totals["baseline_cost_usd"] - totals["cost_usd"])) < 1e-9
    assert {g["value"] for g in data["groups"]} >= {"small", "frontier"}
    assert sum(g["requests"] for g in data["groups"]) == totals["requests"]
    assert data["series"] and sum(s["requests"] for s in data["series"]) == totals["requests"]
    p = data["projection"]
    assert p["available"] and p["calls"] == 5_000_000 and p["savings_usd"] > 0
    assert httpx.get(gateway.url + "/console/api/overview?by=prompt", headers=BEARER).status_code == 400


def test_routing_shows_recent_decisions_with_reasons_and_no_prompt_text(gateway: Gateway) -> None:
    data = httpx.get(gateway.url + "/console/api/routing?days=1", headers=BEARER).json()
    assert data["policy"] is None  # no calibrated policy: the priors decide
    assert len(data["recent"]) >= 20
    routed = [r for r in data["recent"] if r["route"]]
    assert routed and all(r["decision_reason"] for r in routed)
    assert "haiku" not in str(data) and "memo" not in str(data)
    assert {m["value"] for m in data["models"]} >= {"small", "frontier"}


def test_deployments_show_health_perimeter_and_region(gateway: Gateway) -> None:
    data = httpx.get(gateway.url + "/console/api/deployments?days=1", headers=BEARER).json()
    rows = {d["name"]: d for d in data["deployments"]}
    assert rows["small"]["perimeter"] == "internal" and rows["small"]["region"] == "eu-west"
    assert rows["frontier"]["breaker"] == "closed" and rows["frontier"]["requests"] > 0
    assert rows["frontier"]["latency_p50_ms"] is not None and rows["frontier"]["in_flight"] == 0
    assert rows["mirror"]["lifecycle"] == "deprecated"
    (alias,) = data["aliases"]
    assert alias["name"] == "assistant" and [t["share"] for t in alias["targets"]] == [0.9, 0.1]
    assert alias["shadow"] == {"model": "mirror", "share": 1.0}
    assert data["lifecycle"][0]["state"] == "deprecated" and data["lifecycle"][0]["successor"] == "frontier"
    (shadow,) = data["shadows"]
    assert shadow["alias"] == "assistant" and shadow["count"] >= 1


def test_keys_are_created_listed_with_burn_and_revoked(gateway: Gateway) -> None:
    client = gateway.signed_in()
    token = {"x-csrf-token": gateway.csrf(client)}
    created = client.post(
        "/console/api/keys",
        json={"team": "ops", "budget_usd": "2.5", "period": "day", "rpm": "60", "models": "small"},
        headers=token,
    ).json()
    assert created["secret"].startswith("il-") and created["team"] == "ops"
    assert chat(gateway.url, created["secret"], "small", "hello").status_code == 200
    assert chat(gateway.url, created["secret"], "frontier", "hello").status_code == 403  # limited to small
    listed = {k["key_id"]: k for k in client.get("/console/api/keys").json()["keys"]}
    row = listed[created["key_id"]]
    assert (
        row["active"] and row["budget_usd"] == 2.5 and row["period"] == "day" and row["models"] == ["small"]
    )
    assert "secret" not in row
    assert client.post(f"/console/api/keys/{created['key_id']}/revoke", headers=token).status_code == 200
    assert client.post(f"/console/api/keys/{created['key_id']}/revoke", headers=token).status_code == 404
    deadline = time.monotonic() + 5  # the gateway rereads the revocation stamp about twice a second
    while chat(gateway.url, created["secret"], "small", "hello").status_code != 401:
        assert time.monotonic() < deadline, "the revoked key still works"
        time.sleep(0.1)
    bad = client.post("/console/api/keys", json={"team": "ops", "budget_usd": "lots"}, headers=token)
    assert bad.status_code == 400 and "budget_usd" in bad.json()["error"]["message"]


def test_key_burn_and_time_to_exhaustion(gateway: Gateway) -> None:
    data = httpx.get(gateway.url + "/console/api/keys", headers=BEARER).json()
    spending = [k for k in data["keys"] if k["spent_usd"] > 0]
    assert spending and all(k["burn_per_hour_usd"] > 0 for k in spending)
    assert data["teams"][0]["team"] == "research" and data["teams"][0]["budget_usd"] == 5.0


def test_compliance_counts_and_verifies_the_audit_chain(gateway: Gateway) -> None:
    data = httpx.get(gateway.url + "/console/api/compliance?days=1", headers=BEARER).json()
    assert data["available"] and data["records"] >= 20 and data["log_prompts"] is False
    assert sum(c["total"] for c in data["classes"]) >= 20
    personal = next(c for c in data["classes"] if c["data_class"] == "personal")  # the e-mail address
    assert personal["total"] >= 1 and personal.get("allow", 0) == 0  # kept inside, redacted or refused
    client = gateway.signed_in()
    verified = client.post("/console/api/audit/verify", headers={"x-csrf-token": gateway.csrf(client)}).json()
    assert verified["ok"] and verified["records_checked"] >= 20


def test_without_the_admin_key_variable_the_console_explains_how_to_enable_it(gateway: Gateway) -> None:
    os.environ.pop(ADMIN_ENV)
    try:
        page = httpx.get(gateway.url + "/console/login")
        assert page.status_code == 403 and ADMIN_ENV in page.text
        api = httpx.get(gateway.url + "/console/api/overview", headers=BEARER)
        assert api.status_code == 403 and api.json()["error"]["code"] == "console_disabled"
    finally:
        os.environ[ADMIN_ENV] = ADMIN_KEY
