"""Redaction: stable placeholders, no value left behind, restoration in plain and JSON text."""

from __future__ import annotations

import json

import pytest

from interlock.compliance import DataClass, redact_request, scan_request

EMAIL = "jane.roe@example.com"


def _request() -> dict:
    return {
        "model": "any",
        "messages": [
            {"role": "user", "content": f"Write to {EMAIL} and cc {EMAIL}. Card 4111 1111 1111 1111."},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c",
                        "type": "function",
                        "function": {
                            "name": "send",
                            "arguments": json.dumps({"to": EMAIL, "ssn": "536-22-8191"}),
                        },
                    }
                ],
            },
            {"role": "user", "content": "Patient was diagnosed with asthma."},
        ],
    }


def test_same_value_same_placeholder_across_the_request() -> None:
    request = _request()
    redaction = redact_request(request, scan_request(request))
    first = redaction.request["messages"][0]["content"]
    assert first == "Write to <EMAIL_1> and cc <EMAIL_1>. Card <PAYMENT_CARD_1>."
    assert json.loads(redaction.request["messages"][1]["tool_calls"][0]["function"]["arguments"]) == {
        "to": "<EMAIL_1>",
        "ssn": "<US_SSN_1>",
    }
    assert redaction.counts == {
        "email": 1,
        "payment_card": 1,
        "us_ssn": 1,
        "medical_term_in_patient_context": 1,
    }


def test_original_request_is_untouched() -> None:
    request = _request()
    before = json.dumps(request)
    redact_request(request, scan_request(request))
    assert json.dumps(request) == before


def test_only_the_chosen_classes_are_redacted() -> None:
    request = _request()
    redaction = redact_request(request, scan_request(request), {DataClass.HEALTH})
    assert (
        redaction.request["messages"][2]["content"]
        == "Patient was diagnosed with <MEDICAL_TERM_IN_PATIENT_CONTEXT_1>."
    )
    assert EMAIL in redaction.request["messages"][0]["content"]


def test_a_value_detected_once_is_replaced_where_it_stands_unlabelled() -> None:
    request = {
        "messages": [
            {"role": "user", "content": "SSN is 219450921."},
            {"role": "user", "content": "Again: 219450921, and 2194509210 is a different number."},
        ]
    }
    redacted = redact_request(request, scan_request(request)).request
    assert redacted["messages"][1]["content"] == "Again: <US_SSN_1>, and 2194509210 is a different number."


def test_placeholders_already_in_the_prompt_are_not_reused() -> None:
    request = {
        "messages": [{"role": "user", "content": "Template uses <EMAIL_1>; real one is a@example.org"}]
    }
    redaction = redact_request(request, scan_request(request))
    assert redaction.request["messages"][0]["content"] == "Template uses <EMAIL_1>; real one is <EMAIL_2>"
    assert redaction.restorer.restore("<EMAIL_1> / <EMAIL_2>") == "<EMAIL_1> / a@example.org"


def test_restore_plain_and_json_escaped() -> None:
    key = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"
    request = {"messages": [{"role": "user", "content": f"Use {key} please"}]}
    restorer = redact_request(request, scan_request(request)).restorer
    assert restorer.restore("k=<PRIVATE_KEY_1>") == f"k={key}"
    restored_args = restorer.restore(json.dumps({"k": "<PRIVATE_KEY_1>"}), json_escaped=True)
    assert json.loads(restored_args) == {"k": key}
    assert restorer.restore("<UNKNOWN_1> stays") == "<UNKNOWN_1> stays"


def test_restorer_repr_holds_no_values() -> None:
    request = _request()
    restorer = redact_request(request, scan_request(request)).restorer
    assert EMAIL not in repr(restorer) and "4111" not in repr(restorer)


def test_a_report_from_another_request_is_refused() -> None:
    other = {"messages": [{"role": "user", "content": "x"}]}
    with pytest.raises(ValueError, match="does not belong"):
        redact_request(other, scan_request(_request()))


def test_numbers_in_tool_inputs_become_placeholders() -> None:
    request = {
        "messages": [
            {
                "role": "assistant",
                "content": [
                    {
                        "type": "tool_use",
                        "id": "t",
                        "name": "pay",
                        "input": {"card": 4111111111111111, "qty": 2},
                    }
                ],
            }
        ]
    }
    redacted = redact_request(request, scan_request(request)).request
    assert redacted["messages"][0]["content"][0]["input"] == {"card": "<PAYMENT_CARD_1>", "qty": 2}
