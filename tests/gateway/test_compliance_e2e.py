"""Compliance end to end: sensitive data never reaches an external deployment unless policy allows it."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from gateway_harness import openai_deployment, running_gateway
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from servers import serve_in_thread
from upstreams.openai_upstream import OpenAIUpstream

PHI = "Patient MRN: 84412907 was diagnosed with type 2 diabetes and prescribed metformin 500 mg."
EMAIL = "Please summarise the complaint from jane.doe@example.org about her late refund."


def _luhn_card(prefix: str, body: int) -> str:
    digits = [int(c) for c in prefix + f"{body:09d}"]
    total = 0
    for i, d in enumerate(reversed(digits)):
        d = d * 2 if i % 2 == 0 else d
        total += d - 9 if d > 9 else d
    return prefix + f"{body:09d}" + str((10 - total % 10) % 10)


@pytest.fixture(scope="module")
def external() -> Iterator[tuple[OpenAIUpstream, str]]:
    upstream = OpenAIUpstream()
    with serve_in_thread(upstream.app) as url:
        yield upstream, url


@pytest.fixture(scope="module")
def gateway(openai_upstream, external, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    _, internal_url = openai_upstream
    _, external_url = external
    audit = tmp_path_factory.mktemp("audit") / "audit.db"
    config = {
        "audit_log": str(audit),
        "deployments": [
            openai_deployment("inside", internal_url, perimeter="internal", open_weight=True, region="eu"),
            openai_deployment("outside", external_url, perimeter="external", region="us"),
            openai_deployment("inside-dead", "http://127.0.0.1:9", model="shared", perimeter="internal"),
            openai_deployment("outside-live", external_url, model="shared", perimeter="external"),
        ],
        "compliance": {"rules": [
            {"name": "phi-inside", "data_classes": ["health"], "require_any": [{"perimeter": "internal"}]},
            {"name": "financial-inside", "data_classes": ["financial"], "require_any": [{"perimeter": "internal"}]},
            {"name": "personal-redacted-outside", "data_classes": ["personal"],
             "require_any": [{"perimeter": "internal"}], "action": "redact"},
            {"name": "no-secrets", "data_classes": ["secret"], "action": "block"},
        ]},
        "resilience": {"retry": {"max_attempts": 1}},
    }
    with running_gateway(config) as (url, _):
        yield url, audit


def _chat(url: str, model: str, content: str, stream: bool = False) -> httpx.Response:
    return httpx.post(url + "/v1/chat/completions", timeout=30,
                      json={"model": model, "messages": [{"role": "user", "content": content}], "stream": stream})


def _sent_to(upstream: OpenAIUpstream) -> str:
    return "\n".join(str(b) for b in upstream.received)


def test_phi_to_an_external_model_is_refused_and_never_sent(gateway, external) -> None:
    url, _ = gateway
    upstream, _ = external
    resp = _chat(url, "outside", PHI)
    assert resp.status_code == 403
    err = resp.json()["error"]
    assert err["code"] == "no_compliant_model" and "health" in err["message"] and "phi-inside" in err["message"]
    assert "84412907" not in _sent_to(upstream)


def test_phi_routed_automatically_stays_inside(gateway, external) -> None:
    url, _ = gateway
    upstream, _ = external
    resp = _chat(url, "auto", PHI)
    assert resp.status_code == 200, resp.text
    assert resp.headers["x-interlock-deployment"] == "inside"
    assert "84412907" not in _sent_to(upstream)


@pytest.mark.parametrize("stream", [False, True])
def test_redaction_outside_and_restoration_for_the_client(gateway, external, stream: bool) -> None:
    url, _ = gateway
    upstream, _ = external
    client = openai.OpenAI(base_url=url + "/v1", api_key="x", max_retries=0)
    reply = client.chat.completions.create(model="outside", messages=[{"role": "user", "content": EMAIL}], stream=stream)
    text = reply.choices[0].message.content if not stream else "".join(
        c.choices[0].delta.content or "" for c in reply if c.choices)
    assert "jane.doe@example.org" in text  # restored for the client
    sent = upstream.received[-1]["messages"][0]["content"]
    assert "jane.doe@example.org" not in sent and "<EMAIL_1>" in sent


def test_fallback_never_crosses_the_perimeter_and_down_means_refused(gateway, external) -> None:
    url, _ = gateway
    upstream, _ = external
    statuses = [_chat(url, "shared", PHI).status_code for _ in range(8)]
    # the internal replica is dead: first failures (502), then its breaker opens and the request is refused
    assert set(statuses) <= {502, 403} and statuses[-1] == 403
    assert "84412907" not in _sent_to(upstream)
    ok = _chat(url, "shared", "What is a good name for a cat?")
    assert ok.status_code == 200 and ok.headers["x-interlock-deployment"] == "outside-live"


def test_secrets_are_blocked_everywhere(gateway) -> None:
    url, _ = gateway
    resp = _chat(url, "inside", "deploy with key AKIAIOSFODNN7EXAMPLF and go")
    assert resp.status_code == 403 and "no-secrets" in resp.json()["error"]["message"]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    card_body=st.integers(min_value=0, max_value=10**9 - 1),
    template=st.sampled_from([
        "Charge card {v} for the order.", "card: {v}", "My Visa is {v}, expiry 09/29.",
        "Customer asked to update payment method to {v} before the renewal.",
    ]),
    model=st.sampled_from(["outside", "auto", "shared"]),
    stream=st.booleans(),
)
def test_no_card_number_ever_reaches_outside(gateway, external, card_body: int, template: str, model: str,
                                             stream: bool) -> None:
    url, _ = gateway
    upstream, _ = external
    card = _luhn_card("411111", card_body)
    resp = _chat(url, model, template.format(v=card), stream=stream)
    assert resp.status_code in (200, 403, 502)
    assert card not in _sent_to(upstream)


def test_audit_log_records_every_request_and_detects_tampering(gateway, tmp_path: Path) -> None:
    url, audit = gateway
    _chat(url, "inside", "hello there")
    run = subprocess.run([sys.executable, "-m", "interlock.cli.main", "audit", "verify", "--path", str(audit)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    exported = subprocess.run([sys.executable, "-m", "interlock.cli.main", "audit", "export", "--path", str(audit)],
                              capture_output=True, text=True, timeout=60).stdout
    assert "84412907" not in exported and "jane.doe" not in exported
    assert '"action": "redact"' in exported and '"action": "refuse"' in exported
    copy = tmp_path / "copy.db"
    with sqlite3.connect(audit) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)  # the live log is in WAL mode: copy through SQLite, not the file bytes
    with sqlite3.connect(copy) as db:  # someone with file access drops the guard triggers and edits a record
        for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            db.execute(f"DROP TRIGGER {name}")
        db.execute("UPDATE audit_records SET deployment = 'somewhere-else' WHERE seq = 2")
    run = subprocess.run([sys.executable, "-m", "interlock.cli.main", "audit", "verify", "--path", str(copy)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "seq=2" in run.stderr


def test_embeddings_follow_the_same_compliance_rules(gateway, external) -> None:
    url, _ = gateway
    upstream, _ = external
    refused = httpx.post(url + "/v1/embeddings", timeout=30, json={"model": "outside", "input": [PHI]})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "no_compliant_model"
    # personal data may only go out redacted, and a redacted text embeds as another text: refused too
    assert httpx.post(url + "/v1/embeddings", json={"model": "outside", "input": EMAIL}).status_code == 403
    assert "84412907" not in _sent_to(upstream) and "jane.doe@example.org" not in _sent_to(upstream)
    inside = httpx.post(url + "/v1/embeddings", timeout=30, json={"model": "inside", "input": [PHI]})
    assert inside.status_code == 200 and inside.headers["x-interlock-deployment"] == "inside"
    assert "x-interlock-cost-usd" in inside.headers
