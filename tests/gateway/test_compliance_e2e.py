"""Compliance end to end: sensitive data never reaches an external deployment unless policy allows it."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import openai
import pytest
from compliance.sensitive_corpus import SENSITIVE, Sensitive, appears_in
from gateway_harness import openai_deployment, running_gateway
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from servers import serve_in_thread
from upstreams.anthropic_upstream import AnthropicUpstream, anthropic_deployment
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


# --- After a fallback, the audit record names every deployment that received the body ------------

@pytest.fixture(scope="module")
def fallback_gateway(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    upstream = OpenAIUpstream()
    audit = tmp_path_factory.mktemp("audit-fallback") / "audit.db"
    with serve_in_thread(upstream.app) as up:
        config = {
            "audit_log": str(audit),
            "deployments": [
                openai_deployment("pair-inside", up, model="flaky", upstream_model="fault-500",
                                  perimeter="internal"),
                openai_deployment("pair-outside", up, model="steady", perimeter="external", region="us"),
            ],
            "aliases": [{"name": "pair", "target": "flaky", "fallbacks": ["steady"]}],
            "compliance": {"rules": [{"name": "personal-redacted-outside", "data_classes": ["personal"],
                                      "require_any": [{"perimeter": "internal"}], "action": "redact"}]},
            "resilience": {"retry": {"max_attempts": 1}},
        }
        with running_gateway(config) as (url, _):
            yield url, audit


def _audit_record(audit: Path, request_id: str) -> dict:
    """The audit record of one request, waiting for the writer thread."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with sqlite3.connect(audit) as db:
            row = db.execute("SELECT deployment, sent_to FROM audit_records WHERE request_id = ?",
                             (request_id,)).fetchone()
        if row is not None:
            return {"deployment": row[0], "sent_to": json.loads(row[1])}
        time.sleep(0.05)
    raise AssertionError(f"no audit record for {request_id}")


def test_after_a_fallback_the_audit_record_names_every_deployment_that_received_the_body(
    fallback_gateway,
) -> None:
    url, audit = fallback_gateway
    resp = _chat(url, "pair", EMAIL)
    assert resp.status_code == 200, resp.text
    assert resp.headers["x-interlock-fallback"].startswith("from=pair-inside")
    record = _audit_record(audit, resp.headers["x-request-id"])
    assert record["deployment"] == "pair-outside"
    assert record["sent_to"] == [
        {"deployment": "pair-inside", "action": "route", "perimeter": "internal", "region": "unknown"},
        {"deployment": "pair-outside", "action": "redact", "perimeter": "external", "region": "us"},
    ]


def test_audit_verify_takes_an_anchor_from_audit_head(gateway) -> None:
    url, audit = gateway
    _chat(url, "inside", "hello again")
    cli = [sys.executable, "-m", "interlock.cli.main", "audit"]
    head = subprocess.run([*cli, "head", "--path", str(audit)], capture_output=True, text=True, timeout=60)
    assert head.returncode == 0, head.stderr
    run = subprocess.run([*cli, "verify", "--path", str(audit), "--anchor", head.stdout.strip()],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and "matches the anchor" in " ".join(run.stderr.split())


# --- No generated sensitive value reaches an external deployment, whatever field it is put in ------

def _tool(description: str = "Look up an order.", enum: list[str] | None = None, param: str = "order",
          ) -> dict:
    schema: dict = {"type": "string", "description": "the order reference"}
    if enum:
        schema["enum"] = enum
    return {"type": "function", "function": {"name": "lookup", "description": description,
                                             "parameters": {"type": "object", "properties": {param: schema}}}}


def _turns(arguments: str = "{}", result: str = "done", call_id: str = "call_1") -> list[dict]:
    return [
        {"role": "user", "content": "Look the order up."},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": call_id, "type": "function", "function": {"name": "lookup", "arguments": arguments}}]},
        {"role": "tool", "tool_call_id": call_id, "content": result},
    ]


def _ask(**fields: object) -> dict:
    return {"messages": [{"role": "user", "content": "Please help with this ticket."}], **fields}


def _parts(*parts: dict) -> dict:
    return {"messages": [{"role": "user", "content": [{"type": "text", "text": "What is in this?"}, *parts]}]}


PDF = "data:application/pdf;base64,JVBERi0xLjQK"
OPENAI_SLOTS = {
    "user content": lambda t: {"messages": [{"role": "user", "content": f"Please check {t} for me."}]},
    "system": lambda t: {"messages": [{"role": "system", "content": f"Context: {t}"},
                                      {"role": "user", "content": "go"}]},
    "content part": lambda t: _parts({"type": "text", "text": f"see {t} here"}),
    "assistant turn": lambda t: {"messages": [{"role": "user", "content": "hi"},
                                              {"role": "assistant", "content": f"Noted {t}."},
                                              {"role": "user", "content": "go on"}]},
    "tool arguments": lambda t: {"messages": _turns(arguments=json.dumps({"value": t}))},
    "tool result": lambda t: {"messages": _turns(result=f"lookup returned {t}")},
    "tool call id": lambda t: {"messages": _turns(call_id=t)},
    "tool description": lambda t: _ask(tools=[_tool(f"Look up orders of {t}")]),
    "tool enum": lambda t: _ask(tools=[_tool(enum=["open", t])]),
    "tool parameter name": lambda t: _ask(tools=[_tool(param=t)]),
    "tool_choice": lambda t: _ask(tools=[_tool()], tool_choice={"type": "function", "function": {"name": t}}),
    "metadata value": lambda t: _ask(metadata={"ref": t}),
    "metadata key": lambda t: _ask(metadata={t: "vip"}),
    "prediction": lambda t: _ask(prediction={"type": "content", "content": f"Dear {t},"}),
    "response_format": lambda t: _ask(response_format={"type": "json_schema", "json_schema": {
        "name": "reply", "description": f"A reply about {t}", "schema": {"type": "object"}}}),
    "stop": lambda t: _ask(stop=["END", t]),
    "safety_identifier": lambda t: _ask(safety_identifier=t),
    "prompt_cache_key": lambda t: _ask(prompt_cache_key=t),
    "user": lambda t: _ask(user=t),
    "image URL": lambda t: _parts({"type": "image_url", "image_url": {"url": f"https://x.example/{t}/a"}}),
    "file name": lambda t: _parts({"type": "file", "file": {"filename": f"{t}.pdf", "file_data": PDF}}),
    "message name": lambda t: {"messages": [{"role": "user", "name": t, "content": "hi"}]},
    # refused by the request schema today; if a wire change lets it through, it must be scanned
    "unknown message field": lambda t: {"messages": [{"role": "user", "content": "hi", "note": t}]},
}
OPENAI_NUMBER_SLOTS = {
    "tool argument number": lambda n: {"messages": _turns(arguments=json.dumps({"amount": n}))},
    "tool argument float": lambda n: {"messages": _turns(arguments=json.dumps({"amount": float(n)}))},
    "seed": lambda n: _ask(seed=n),
}


def _messages(**fields: object) -> dict:
    return {"max_tokens": 64, "messages": [{"role": "user", "content": "Please help."}], **fields}


def _tool_use(value: object, result: str = "done") -> list[dict]:
    return [
        {"role": "user", "content": "Look the order up."},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "lookup",
                                           "input": {"value": value}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": result}]},
    ]


def _anthropic_tool(description: str = "Look up an order.", hint: str = "the order") -> dict:
    return {"name": "lookup", "description": description,
            "input_schema": {"type": "object", "properties": {"q": {"type": "string", "description": hint}}}}


ANTHROPIC_SLOTS = {
    "messages system": lambda t: _messages(system=f"Context: {t}"),
    "messages content": lambda t: _messages(messages=[{"role": "user", "content": f"check {t} please"}]),
    "messages tool_use input": lambda t: _messages(messages=_tool_use(t)),
    "messages tool_result": lambda t: _messages(messages=_tool_use("x", result=f"found {t}")),
    "messages tool description": lambda t: _messages(tools=[_anthropic_tool(description=f"find {t}")]),
    "messages input_schema": lambda t: _messages(tools=[_anthropic_tool(hint=f"like {t}")]),
    "messages metadata": lambda t: _messages(metadata={"user_id": t}),
    "messages stop_sequences": lambda t: _messages(stop_sequences=[t]),
}
ANTHROPIC_NUMBER_SLOTS = {"messages tool_use number": lambda n: _messages(messages=_tool_use(n))}


@dataclass
class Perimeter:
    url: str
    inside: OpenAIUpstream
    outside: OpenAIUpstream
    outside_claude: AnthropicUpstream


@pytest.fixture(scope="module")
def perimeter(tmp_path_factory, anthropic_upstream) -> Iterator[Perimeter]:
    inside, outside = OpenAIUpstream(), OpenAIUpstream()
    claude, claude_url = anthropic_upstream
    caps = {"tools": True, "json_output": True, "images": True}
    with serve_in_thread(inside.app) as inside_url, serve_in_thread(outside.app) as outside_url:
        config = {
            "audit_log": str(tmp_path_factory.mktemp("audit-perimeter") / "audit.db"),
            "deployments": [
                openai_deployment("inside", inside_url, perimeter="internal", region="eu", capabilities=caps),
                openai_deployment("outside", outside_url, perimeter="external", region="us",
                                  capabilities=caps),
                anthropic_deployment("outside-claude", claude_url, region="us"),
            ],
            "compliance": {"rules": [
                {"name": "personal-redacted-outside", "data_classes": ["personal"],
                 "require_any": [{"perimeter": "internal"}], "action": "redact"},
                *({"name": f"{c}-inside", "data_classes": [c], "require_any": [{"perimeter": "internal"}]}
                  for c in ("financial", "health", "secret", "privileged")),
            ]},
            "resilience": {"retry": {"max_attempts": 1}},
        }
        with running_gateway(config) as (url, _):
            yield Perimeter(url, inside, outside, claude)


@st.composite
def placements(draw: st.DrawFn) -> tuple[str, str, dict, Sensitive]:
    value = draw(SENSITIVE)
    route = draw(st.sampled_from(["/v1/chat/completions", "/v1/messages"]))
    slots, numbers = (OPENAI_SLOTS, OPENAI_NUMBER_SLOTS) if route == "/v1/chat/completions" else (
        ANTHROPIC_SLOTS, ANTHROPIC_NUMBER_SLOTS)
    if value.number is not None and draw(st.booleans()):
        slot = draw(st.sampled_from(sorted(numbers)))
        body = numbers[slot](value.number)
    else:
        slot = draw(st.sampled_from(sorted(slots)))
        body = slots[slot](value.text)
    return route, slot, body, value


@settings(max_examples=80, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=placements(), model=st.sampled_from(["auto", "outside", "outside-claude", "inside"]))
def test_no_sensitive_value_reaches_an_external_deployment_whatever_field_holds_it(
    perimeter: Perimeter, case: tuple[str, str, dict, Sensitive], model: str
) -> None:
    route, slot, body, value = case
    seen = tuple(len(up.received) for up in (perimeter.inside, perimeter.outside, perimeter.outside_claude))
    resp = httpx.post(perimeter.url + route, json={"model": model, **body}, timeout=30)
    where = f"{value.kind} in {slot} via {route} to {model}: {resp.status_code} {resp.text[:300]}"
    assert resp.status_code < 500, where
    outside = perimeter.outside.received[seen[1]:] + perimeter.outside_claude.received[seen[2]:]
    assert not appears_in(value.secret, outside), f"leaked: {where}"
    if resp.status_code == 200 and resp.headers.get("x-interlock-deployment") == "inside":
        # the field does travel upstream: the check above is not vacuous
        assert appears_in(value.secret, perimeter.inside.received[seen[0]:]), f"not forwarded: {where}"


# Every slot with every kind, plainly and obfuscated, to both external deployments (the generated
# cases above add variety; this guarantees coverage).
FIXED_CORPUS = [
    Sensitive("payment_card", "financial", "4000\u20130566\u20135566\u20135556", "4000056655665556",
              4000056655665556),
    Sensitive("iban", "financial", "DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
    Sensitive("us_ssn", "personal", "536\u201422\u20148191", "536-22-8191"),
    Sensitive("email", "personal", "mary.o'neil@corp.example.org", "mary.o'neil@corp.example.org"),
    Sensitive("api_key", "secret", "AKIAJ3R7\u200bQ2XW5YV8N4TZ", "AKIAJ3R7Q2XW5YV8N4TZ"),
    Sensitive("mrn", "health", "MRN: 84412907", "84412907"),
    Sensitive("uk_nino", "personal", "JG103759A", "JG103759A"),
]
ALL_SLOTS = [("/v1/chat/completions", name, build) for name, build in OPENAI_SLOTS.items()] + [
    ("/v1/messages", name, build) for name, build in ANTHROPIC_SLOTS.items()]


@pytest.mark.parametrize(("route", "slot", "build"), ALL_SLOTS, ids=[slot for _, slot, _ in ALL_SLOTS])
def test_every_slot_with_every_kind_stays_inside(perimeter: Perimeter, route: str, slot: str, build) -> None:
    for value in FIXED_CORPUS:
        for model in ("outside", "outside-claude"):
            seen = (len(perimeter.outside.received), len(perimeter.outside_claude.received))
            resp = httpx.post(perimeter.url + route, json={"model": model, **build(value.text)}, timeout=30)
            where = f"{value.kind} in {slot} via {route} to {model}: {resp.status_code} {resp.text[:300]}"
            assert resp.status_code < 500, where
            outside = perimeter.outside.received[seen[0]:] + perimeter.outside_claude.received[seen[1]:]
            assert not appears_in(value.secret, outside), f"leaked: {where}"


def test_a_redacted_value_repeated_in_an_object_key_keeps_the_redacting_deployment_out(
    perimeter: Perimeter,
) -> None:
    seen = len(perimeter.outside.received)
    body = {"model": "outside", "messages": [{"role": "user", "content": "Her SSN is 219450921, see file."}],
            "metadata": {"219450921": "case file"}}  # bare nine digits: the label above makes them an SSN
    resp = httpx.post(perimeter.url + "/v1/chat/completions", json=body, timeout=30)
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "no_compliant_model"
    assert not appears_in("219450921", perimeter.outside.received[seen:])
    auto = httpx.post(perimeter.url + "/v1/chat/completions", json={**body, "model": "auto"}, timeout=30)
    assert auto.status_code == 200 and auto.headers["x-interlock-deployment"] == "inside"
