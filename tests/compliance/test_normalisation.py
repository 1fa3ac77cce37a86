"""Obfuscated values (other dashes, zero-width and format characters, full-width digits) are found, and
their spans still index the original text so redaction removes every character of them.
"""

from __future__ import annotations

import json

import pytest

from interlock.compliance import DataClass, redact_request, scan_request
from interlock.compliance.normalisation import normalise
from interlock.compliance.scanning import Scanner

ZWSP, ZWJ, WJ, SHY = "\u200b", "\u200d", "\u2060", "\u00ad"
EN, EM = "\u2013", "\u2014"
IBAN_GROUPS = ("DE89", "3704", "0044", "0532", "0130", "00")
FULLWIDTH_CARD = "".join(chr(0xFF10 + int(d)) for d in "4111111111111111")


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        (f"card 4111{EN}1111{EN}1111{EN}1111 please", "payment_card", f"4111{EN}1111{EN}1111{EN}1111"),
        (f"SSN 536{EM}22{EM}8191 on file", "us_ssn", f"536{EM}22{EM}8191"),
        (f"card 4111{ZWSP}1111{ZWSP}1111{ZWSP}1111.", "payment_card", f"4111{ZWSP}1111{ZWSP}1111{ZWSP}1111"),
        (f"pay 41{ZWJ}11111111111111 today", "payment_card", f"41{ZWJ}11111111111111"),
        (f"SSN: 536-2{SHY}2-8191", "us_ssn", f"536-2{SHY}2-8191"),
        (f"IBAN {WJ.join(IBAN_GROUPS)}", "iban", WJ.join(IBAN_GROUPS)),
        (f"card {FULLWIDTH_CARD}", "payment_card", FULLWIDTH_CARD),
        (f"mail jane{ZWSP}.roe@exam{ZWSP}ple.com now", "email", f"jane{ZWSP}.roe@exam{ZWSP}ple.com"),
        (f"\ufeffSSN 536{EN}22{EN}8191", "us_ssn", f"536{EN}22{EN}8191"),
    ],
)
def test_obfuscated_values_are_found_with_spans_on_the_original(text: str, kind: str, value: str) -> None:
    found = [(d.kind, text[d.start : d.end]) for d in Scanner().scan_text(text)]
    assert (kind, value) in found


def test_redaction_removes_every_character_of_an_obfuscated_value() -> None:
    text = f"Customer café ☕ card 41{ZWSP}11{EN}1111{EN}1111{EN}1111 and SSN 536{EM}22{EM}8191, thanks"
    request = {"messages": [{"role": "user", "content": text}]}
    redacted = redact_request(request, scan_request(request), [DataClass.FINANCIAL, DataClass.PERSONAL])
    sent = redacted.request["messages"][0]["content"]
    assert sent == "Customer café ☕ card <PAYMENT_CARD_1> and SSN <US_SSN_1>, thanks"
    assert redacted.restorer.restore(sent) == text


def test_a_value_seen_once_obfuscated_is_replaced_where_it_stands_plain() -> None:
    request = {"messages": [
        {"role": "user", "content": f"SSN: 536{EN}22{EN}8191"},
        {"role": "user", "content": "repeat: 536-22-8191 and 536 22 8191"},
    ]}
    redacted = redact_request(request, scan_request(request), [DataClass.PERSONAL]).request
    assert redacted["messages"][1]["content"] == "repeat: <US_SSN_1> and 536 22 8191"


def test_normalise_maps_offsets_back_and_leaves_ascii_alone() -> None:
    assert normalise("plain ascii text").offsets is None
    text = f"a{ZWSP}b\ufb01c{EM}d"  # the fi ligature becomes two characters
    folded = normalise(text)
    assert folded.text == "abfic-d"
    assert [folded.original_span(i, i + 1) for i in range(len(folded.text))] == [
        (0, 1), (2, 3), (3, 4), (3, 4), (4, 5), (5, 6), (6, 7)
    ]
    assert folded.original_span(0, 2) == (0, 3)  # the dropped character between them is inside the span


def test_json_escapes_in_tool_arguments_do_not_hide_a_value() -> None:
    # json.dumps escapes the dashes, and a client may escape digits: the text holds neither as such
    card = f"4000{EN}0566{EN}5566{EN}5556"
    arguments = json.dumps({"card": card})[:-1] + ', "ssn": "\\u0035\\u0033\\u0036-22-8191"}'
    assert "\\u2013" in arguments and json.loads(arguments)["ssn"] == "536-22-8191"
    request = {"messages": [{"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "pay", "arguments": arguments}}]}]}
    report = scan_request(request)
    assert sorted(report.kinds) == ["payment_card", "us_ssn"]
    redaction = redact_request(request, report)
    sent = redaction.request["messages"][0]["tool_calls"][0]["function"]["arguments"]
    assert json.loads(sent) == {"card": "<PAYMENT_CARD_1>", "ssn": "<US_SSN_1>"}
    # back in an answer: JSON text gets the value as it was written there, plain text gets it decoded
    assert json.loads(redaction.restorer.restore(sent, json_escaped=True))["card"] == card
    assert redaction.restorer.restore("card <PAYMENT_CARD_1>") == f"card {card}"
