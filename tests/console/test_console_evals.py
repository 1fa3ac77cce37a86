"""Evaluations launched from the console run a suite through the gateway, report progress, and cancel."""

from __future__ import annotations

import time

import httpx

from console.conftest import Gateway, write_suite


def _poll(client: httpx.Client, run_id: str, until: set[str]) -> dict:
    deadline = time.monotonic() + 60
    while (run := client.get(f"/console/api/evaluations/{run_id}").json())["status"] not in until:
        assert time.monotonic() < deadline, run
        time.sleep(0.1)
    return run


def test_an_evaluation_runs_to_a_summary_and_its_run_key_is_revoked(gateway: Gateway) -> None:
    write_suite("console-tiny", 4, "say hello")
    client = gateway.signed_in()
    token = {"x-csrf-token": gateway.csrf(client)}
    listing = client.get("/console/api/evaluations").json()
    assert "console-tiny" in listing["suites"] and "sample" in listing["suites"]
    assert {"small", "frontier", "premium", "auto"} <= set(listing["models"])
    launched = client.post(
        "/console/api/evaluations",
        json={"suite": "console-tiny", "models": ["small", "frontier"]},
        headers=token,
    )
    assert launched.status_code == 202, launched.text
    run = _poll(client, launched.json()["run_id"], {"done", "failed"})
    assert run["status"] == "done", run
    assert run["done"] == run["total"] == 8 and run["failed"] == 0
    assert {s["model"]: s["mean_score"] for s in run["summary"]} == {"small": 1.0, "frontier": 1.0}
    deadline = time.monotonic() + 5  # the run's key is revoked as the run ends
    while any(k["active"] for k in client.get("/console/api/keys").json()["keys"]
              if k["team"] == "console-eval"):
        assert time.monotonic() < deadline, "the evaluation's key is still active"
        time.sleep(0.05)
    assert any(k["team"] == "console-eval" for k in client.get("/console/api/keys").json()["keys"])
    if run["report"]:
        report = client.get(f"/console/evaluations/{run['run_id']}/report")
        assert report.status_code == 200 and "<html" in report.text.lower()


def test_a_running_evaluation_can_be_cancelled_and_bad_launches_are_refused(gateway: Gateway) -> None:
    write_suite("console-slow", 40, "FAULT:slow please wait")
    client = gateway.signed_in()
    token = {"x-csrf-token": gateway.csrf(client)}
    unknown = client.post(
        "/console/api/evaluations", json={"suite": "nope", "models": ["small"]}, headers=token
    )
    assert unknown.status_code == 400 and "unknown suite" in unknown.json()["error"]["message"]
    none = client.post(
        "/console/api/evaluations", json={"suite": "console-slow", "models": []}, headers=token
    )
    assert none.status_code == 400
    stranger = client.post(
        "/console/api/evaluations", json={"suite": "console-slow", "models": ["gpt-9"]}, headers=token
    )
    assert stranger.status_code == 400 and "unknown model gpt-9" in stranger.json()["error"]["message"]
    run_id = client.post(
        "/console/api/evaluations", json={"suite": "console-slow", "models": ["small"]}, headers=token
    ).json()["run_id"]
    second = client.post(
        "/console/api/evaluations", json={"suite": "console-slow", "models": ["small"]}, headers=token
    )
    assert second.status_code == 400 and "already running" in second.json()["error"]["message"]
    assert client.post(f"/console/api/evaluations/{run_id}/cancel", headers=token).status_code == 200
    run = _poll(client, run_id, {"cancelled"})
    assert run["done"] < 40
