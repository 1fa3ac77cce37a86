"""Property-based tests: generated sensitive values, anywhere in a conversation, are found and redacted;
restoring undoes redaction exactly; the streaming restorer agrees with the whole-text one for every chunking.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interlock.compliance import (
    CompliancePolicy,
    DeploymentAttributes,
    Restorer,
    decide,
    redact_request,
    scan_request,
)
from interlock.compliance.checksums import IBAN_LENGTHS, iban_check_digits, luhn_check_digit, ssn_valid
from interlock.compliance.request_text import iter_texts

# No example database: runs stay reproducible from the seed and leave no directory behind.
SETTINGS = settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

# (prefix, length) pairs inside the issuer ranges the card recognizer accepts.
_CARD_SHAPES = [
    ("4", 16),
    ("4", 13),
    ("51", 16),
    ("55", 16),
    ("2221", 16),
    ("2720", 16),
    ("34", 15),
    ("37", 15),
    ("6011", 16),
    ("65", 16),
    ("62", 16),
    ("3528", 16),
]


@st.composite
def cards(draw: st.DrawFn) -> str:
    prefix, length = draw(st.sampled_from(_CARD_SHAPES))
    body = prefix + "".join(
        draw(
            st.lists(
                st.sampled_from("0123456789"),
                min_size=length - len(prefix) - 1,
                max_size=length - len(prefix) - 1,
            )
        )
    )
    number = body + luhn_check_digit(body)
    if length == 16 and draw(st.booleans()):
        sep = draw(st.sampled_from([" ", "-"]))
        return sep.join(number[i : i + 4] for i in range(0, 16, 4))
    return number


@st.composite
def ibans(draw: st.DrawFn) -> str:
    country = draw(st.sampled_from(sorted(IBAN_LENGTHS)))
    bban = "".join(
        draw(
            st.lists(
                st.sampled_from("0123456789"),
                min_size=IBAN_LENGTHS[country] - 4,
                max_size=IBAN_LENGTHS[country] - 4,
            )
        )
    )
    compact = country + iban_check_digits(country, bban) + bban
    if draw(st.booleans()):
        return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
    return compact


_LABEL = st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True)


@st.composite
def emails(draw: st.DrawFn) -> str:
    local = draw(st.from_regex(r"[a-z][a-z0-9]{0,6}(?:[._+-][a-z0-9]{1,6}){0,2}", fullmatch=True))
    domain = ".".join(draw(st.lists(_LABEL, min_size=1, max_size=2)))
    return f"{local}@{domain}.{draw(st.sampled_from(['com', 'org', 'net', 'io', 'de', 'co.uk', 'example']))}"


@st.composite
def ssns(draw: st.DrawFn) -> str:
    area, group, serial = draw(st.integers(1, 899)), draw(st.integers(1, 99)), draw(st.integers(1, 9999))
    parts = (f"{area:03d}", f"{group:02d}", f"{serial:04d}")
    return "-".join(parts) if ssn_valid(*parts) else "536-22-8191"


VALUES = st.one_of(
    cards().map(lambda v: ("payment_card", v)),
    ibans().map(lambda v: ("iban", v)),
    emails().map(lambda v: ("email", v)),
    ssns().map(lambda v: ("us_ssn", v)),
)
FILLER = st.sampled_from(
    [
        "Please review this",
        "Thanks in advance",
        "as discussed on the call",
        "see the attached notes",
        "for the quarterly report",
        "before Friday",
        "Summarise the thread",
        "the customer says",
        "according to the ticket",
        "and reply politely",
        "",
        "Order 77 shipped in 2024",
    ]
)
OPEN = st.sampled_from([" ", ": ", " (", '"', "\n", " - "])
CLOSE = st.sampled_from([" ", ") ", '" ', ".\n", ", ", "; "])
SLOTS = st.sampled_from(["system", "user", "user_part", "assistant", "tool_args", "tool_result"])


@st.composite
def conversations(draw: st.DrawFn) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    placed = draw(st.lists(st.tuples(VALUES, SLOTS), min_size=1, max_size=6))
    messages: list[dict[str, Any]] = []
    for (_kind, value), slot in placed:
        text = f"{draw(FILLER)}{draw(OPEN)}{value}{draw(CLOSE)}{draw(FILLER)}"
        if slot in ("system", "user", "assistant"):
            messages.append({"role": slot, "content": text})
        elif slot == "user_part":
            messages.append({"role": "user", "content": [{"type": "text", "text": text}]})
        elif slot == "tool_args":
            arguments = json.dumps({"note": draw(FILLER), "value": value})
            call = {
                "id": f"call_{len(messages)}",
                "type": "function",
                "function": {"name": "lookup", "arguments": arguments},
            }
            messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        else:
            messages.append({"role": "tool", "tool_call_id": "call_0", "content": text})
    return {"model": "any", "messages": messages}, [kv for kv, _ in placed]


@SETTINGS
@given(conversations())
def test_every_generated_value_is_detected_and_none_survives_redaction(
    case: tuple[dict[str, Any], list],
) -> None:
    request, placed = case
    report = scan_request(request)
    texts = {loc.path: text for loc, text in iter_texts(request)}
    found = {(d.kind, texts[d.location.path][d.start : d.end]) for d in report.detections if d.location}
    for kind, value in placed:
        assert any(k == kind and value in v for k, v in found), (kind, value, found)

    redaction = redact_request(request, report)
    dumped = json.dumps(redaction.request, ensure_ascii=False)
    for _, value in placed:
        assert value not in dumped
        assert value.replace(" ", "").replace("-", "") not in dumped.replace(" ", "").replace("-", "")

    redacted_texts = {loc.path: text for loc, text in iter_texts(redaction.request)}
    for path, original in texts.items():
        assert redaction.restorer.restore(redacted_texts[path]) == original


PLACEHOLDERS = {
    "<EMAIL_1>": "a@example.com",
    "<EMAIL_12>": "b@example.org",
    "<PAYMENT_CARD_1>": "4111111111111111",
}
ANSWER_PIECES = st.sampled_from(
    [*PLACEHOLDERS, "<EMAIL_", "<PAY", "<", ">", "<EMAIL_9>", "text ", "<<", " a<b ", "_1>"]
)


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(ANSWER_PIECES, max_size=20).map("".join), st.lists(st.integers(0, 200), max_size=12))
def test_streaming_restorer_matches_whole_text_restoration_for_every_chunking(
    text: str, cuts: list[int]
) -> None:
    restorer = Restorer(PLACEHOLDERS)
    stream = restorer.stream()
    bounds = sorted({min(c, len(text)) for c in cuts} | {0, len(text)})
    out = []
    for low, high in zip(bounds, bounds[1:], strict=False):
        out.append(stream.feed(text[low:high]))
        assert stream.holding < max(map(len, PLACEHOLDERS))
    out.append(stream.flush())
    assert "".join(out) == restorer.restore(text)


INTERNAL = DeploymentAttributes(perimeter="internal", region="eu")
EXTERNAL = DeploymentAttributes(perimeter="external", region="us")


@SETTINGS
@given(
    conversations(),
    st.sampled_from(["route", "redact", "block"]),
    st.sampled_from([{"local": INTERNAL, "api": EXTERNAL}, {"api": EXTERNAL}]),
)
def test_no_generated_value_reaches_an_external_deployment_under_any_action(
    case: tuple[dict[str, Any], list], action: str, candidates: dict[str, DeploymentAttributes]
) -> None:
    """The second candidate set is the fallback case: every internal deployment is down."""
    request, placed = case
    rule: dict[str, Any] = {"name": "inside", "data_classes": ["personal", "financial"], "action": action}
    if action != "block":
        rule["require_any"] = [{"perimeter": "internal"}]
    policy = CompliancePolicy.model_validate({"rules": [rule]})
    report = scan_request(request)
    decision = decide(report, policy, candidates)
    if action == "block":
        assert decision.allowed == ()
    for name in decision.allowed:
        verdict = decision.verdict(name)
        sent = request
        if verdict.redact_classes:
            sent = redact_request(request, report, verdict.redact_classes).request
        if verdict.attributes.perimeter == "external":
            dumped = json.dumps(sent, ensure_ascii=False)
            assert all(value not in dumped for _, value in placed)
    if not decision.allowed:
        assert decision.refusal().code == "no_compliant_model"
