"""Version management through the gateway: canary stickiness, pins, deprecation and sunset, shadow, hot reload."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from gateway_harness import gateway_from_file, openai_deployment, with_test_defaults

from interlock.storage.database import open_database
from interlock.versions.store import SqlShadowStore


def _config(up: str, tmp: Path, weights: tuple[int, int] = (80, 20)) -> dict:
    return with_test_defaults({
        "deployments": [
            openai_deployment("qwen-v1", up, model="qwen", version="v1", upstream_model="echo-v1"),
            openai_deployment("qwen-v2", up, model="qwen", version="v2", upstream_model="echo-v2"),
            openai_deployment("qwen-v0", up, model="qwen", version="v0", upstream_model="echo-v0"),
            openai_deployment("llama", up, model="llama", upstream_model="echo-llama"),
        ],
        "aliases": [{"name": "support", "targets": [{"model": "qwen@v1", "weight": weights[0]},
                                                    {"model": "qwen@v2", "weight": weights[1]}],
                     "sticky": "user", "shadow": {"model": "llama", "share": 1.0}}],
        "lifecycle": [
            {"model": "qwen@v1", "deprecated_after": "2020-01-01", "successor": "qwen@v2"},
            {"model": "qwen@v0", "sunset": "2021-01-01", "successor": "qwen@v2", "redirect": False},
        ],
    }, str(tmp))


ADMIN = {"authorization": "Bearer admin-secret-for-tests"}  # admin endpoints always want the admin key


@pytest.fixture()
def served(openai_upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path, Path]]:
    _, up = openai_upstream
    monkeypatch.setenv("INTERLOCK_ADMIN_KEY", "admin-secret-for-tests")
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(_config(up, tmp_path)))
    with gateway_from_file(path) as url:
        yield url, path, tmp_path


def _ask(url: str, model: str, user: str = "u", **headers: str) -> httpx.Response:
    return httpx.post(url + "/v1/chat/completions", timeout=30, headers=headers,
                      json={"model": model, "user": user, "messages": [{"role": "user", "content": "hello"}]})


def test_canary_is_sticky_per_user_and_splits_traffic(served) -> None:
    url, *_ = served
    picks = {f"user-{i}": _ask(url, "support", f"user-{i}").headers["x-interlock-deployment"] for i in range(60)}
    again = {u: _ask(url, "support", u).headers["x-interlock-deployment"] for u in list(picks)[:15]}
    assert all(picks[u] == d for u, d in again.items())
    assert set(picks.values()) == {"qwen-v1", "qwen-v2"}


def test_deprecated_version_warns_and_sunset_version_is_gone(served) -> None:
    url, *_ = served
    resp = _ask(url, "qwen@v1")
    assert resp.status_code == 200 and "deprecation" in resp.headers and "qwen@v2" in resp.headers["link"]
    gone = _ask(url, "qwen@v0")
    assert gone.status_code == 410
    assert gone.json()["error"]["code"] == "model_sunset" and "qwen@v2" in gone.json()["error"]["message"]


def test_pin_serves_exactly_that_version_or_fails(served) -> None:
    url, *_ = served
    for _ in range(5):
        assert _ask(url, "qwen", **{"x-interlock-pin": "qwen@v2"}).headers["x-interlock-deployment"] == "qwen-v2"
    bad = _ask(url, "qwen", **{"x-interlock-pin": "qwen@v9"})
    assert bad.status_code == 404 and "v1" in bad.json()["error"]["message"]
    assert _ask(url, "qwen", **{"x-interlock-pin": "nonsense"}).status_code == 400


def test_shadow_answers_are_stored_without_touching_the_client(served) -> None:
    url, _path, tmp = served
    resp = _ask(url, "support", "shadowed-user")
    assert resp.json()["choices"][0]["message"]["content"] == "echo: hello"
    db = open_database(str(tmp / "gw.db"))
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            rows = SqlShadowStore(db).results("support")
            if rows:
                break
            time.sleep(0.2)
        assert rows and rows[0].shadow.deployment == "llama" and rows[0].primary.text == "echo: hello"
    finally:
        db.close()


def test_hot_reload_applies_valid_config_and_rejects_invalid(served, openai_upstream) -> None:
    url, path, tmp = served
    _, up = openai_upstream
    config = httpx.get(url + "/admin/config", headers=ADMIN)
    assert config.status_code == 200, config.text
    before = config.json()["config_hash"]
    bad = path.read_text().replace("weight: 80", "weight: -3")
    path.write_text(bad)
    resp = httpx.post(url + "/admin/reload", headers=ADMIN)
    assert resp.status_code == 422 and any("weight" in e for e in resp.json()["errors"])
    assert _ask(url, "support").status_code == 200  # still serving the old config
    path.write_text(yaml.safe_dump(_config(up, tmp, weights=(1, 99))))
    resp = httpx.post(url + "/admin/reload", headers=ADMIN)
    assert resp.status_code == 200 and resp.json()["status"] == "applied"
    deadline = time.monotonic() + 10
    while httpx.get(url + "/admin/config", headers=ADMIN).json()["config_hash"] == before \
            and time.monotonic() < deadline:
        time.sleep(0.1)
    after = httpx.get(url + "/admin/config", headers=ADMIN).json()
    assert after["config_hash"] != before and len(after["history"]) >= 2
    picks = [_ask(url, "support", f"r-{i}").headers["x-interlock-deployment"] for i in range(30)]
    assert picks.count("qwen-v2") >= 25


def test_reload_under_continuous_load_fails_no_request(served, openai_upstream) -> None:
    import asyncio

    url, path, tmp = served
    _, up = openai_upstream

    async def load(stop: asyncio.Event, statuses: list[int]) -> None:
        async with httpx.AsyncClient(timeout=30) as client:
            async def one(i: int) -> None:
                r = await client.post(url + "/v1/chat/completions", json={
                    "model": "support", "user": f"load-{i}", "messages": [{"role": "user", "content": "hi"}]})
                statuses.append(r.status_code)

            i = 0
            while not stop.is_set() and i < 600:
                await asyncio.gather(*(one(i + k) for k in range(8)))
                i += 8

    async def scenario() -> list[int]:
        statuses: list[int] = []
        stop = asyncio.Event()
        worker = asyncio.create_task(load(stop, statuses))
        for weights in ((50, 50), (10, 90), (90, 10)):
            await asyncio.sleep(0.3)
            path.write_text(yaml.safe_dump(_config(up, tmp, weights=weights)))
            async with httpx.AsyncClient(timeout=30) as admin:
                assert (await admin.post(url + "/admin/reload", headers=ADMIN)).status_code == 200
        await asyncio.sleep(0.5)
        stop.set()
        await worker
        return statuses

    statuses = asyncio.run(scenario())
    assert len(statuses) >= 40
    assert set(statuses) == {200}, {s: statuses.count(s) for s in set(statuses)}
