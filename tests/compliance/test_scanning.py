"""Scanning whole requests: every role and field is covered, locations are right, values never leak."""

from __future__ import annotations

import json
import pickle

from interlock.compliance import DataClass, scan_request
from interlock.compliance.request_text import iter_texts

CARD = "4111 1111 1111 1111"
EMAIL = "jane.roe@example.com"


def _request() -> dict:
    return {
        "model": "any",
        "user": "end-user-42",
        "messages": [
            {"role": "system", "content": f"Escalate to {EMAIL}."},
            {"role": "developer", "content": "PRIVILEGED & CONFIDENTIAL"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": f"Card {CARD}"},
                    {
                        "type": "image_url",
                        "image_url": {"url": "data:image/png;base64,QUtJQTEyMzQ1Njc4OTAxMjM0NTY="},
                    },
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "lookup", "arguments": json.dumps({"ssn": "536-22-8191"})},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "MRN: 00456789"},
        ],
    }


def test_every_role_and_field_is_scanned_with_its_location() -> None:
    report = scan_request(_request())
    where = {(d.kind, d.location.pointer, d.location.role, d.location.field) for d in report.detections}
    assert where == {
        ("email", "messages[0].content", "system", "content"),
        ("privilege_marker", "messages[1].content", "developer", "content"),
        ("payment_card", "messages[2].content[0].text", "user", "content"),
        ("us_ssn", "messages[3].tool_calls[0].function.arguments", "assistant", "tool_call_arguments"),
        ("mrn", "messages[4].content", "tool", "tool_result"),
    }
    assert report.data_classes == {
        DataClass.PERSONAL,
        DataClass.PRIVILEGED,
        DataClass.FINANCIAL,
        DataClass.HEALTH,
    }


def test_spans_index_the_text_at_their_location() -> None:
    request = _request()
    texts = {loc.path: text for loc, text in iter_texts(request)}
    for det in scan_request(request).detections:
        assert det.location is not None
        value = texts[det.location.path][det.start : det.end]
        assert value and value == value.strip()


def test_base64_payloads_are_not_scanned_but_identifiers_are() -> None:
    pointers = {loc.pointer for loc, _ in iter_texts(_request())}
    assert "messages[2].content[1].image_url.url" not in pointers  # a data: URL holding base64
    assert "messages[4].tool_call_id" in pointers  # an identifier is sent: it is scanned
    assert "messages[3].tool_calls[0].id" in pointers
    assert "user" in pointers


def test_anthropic_blocks_and_numbers_in_tool_inputs() -> None:
    request = {
        "system": [{"type": "text", "text": f"Reply to {EMAIL}"}],
        "messages": [
            {
                "role": "assistant",
                "content": [
                    {"type": "tool_use", "id": "t1", "name": "pay", "input": {"card": 4111111111111111}}
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "t1", "content": "IBAN DE89370400440532013000"}
                ],
            },
        ],
    }
    found = {(d.kind, d.location.pointer, d.location.field) for d in scan_request(request).detections}
    assert found == {
        ("email", "system[0].text", "system"),
        ("payment_card", "messages[0].content[0].input.*", "tool_call_arguments"),  # keys may be values
        ("iban", "messages[1].content[0].content", "tool_result"),
    }


def test_a_private_key_split_over_two_messages_is_reported_in_both() -> None:
    request = {
        "messages": [
            {"role": "user", "content": "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJ"},
            {"role": "user", "content": "cds3xfn\n-----END RSA PRIVATE KEY-----"},
        ]
    }
    kinds = [(d.kind, d.location.message_index) for d in scan_request(request).detections]
    assert ("private_key", 0) in kinds


def test_report_serializations_hold_no_values() -> None:
    report = scan_request(_request())
    for rendered in (json.dumps(report.to_dict()), repr(report), str(pickle.dumps(report))):
        for value in (CARD, EMAIL, "536-22-8191", "00456789"):
            assert value not in rendered


def test_clean_request_gives_an_empty_report() -> None:
    report = scan_request({"messages": [{"role": "user", "content": "Summarise the release notes for 2.4."}]})
    assert report.is_empty and report.data_classes == frozenset()
