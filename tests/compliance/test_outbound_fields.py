"""Every string and number an upstream would receive is scanned, wherever it sits in the body, and
redaction reaches the same places; what cannot be redacted in place keeps redacting deployments out.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from interlock.compliance import (
    CompliancePolicy,
    DataClass,
    DeploymentAttributes,
    decide,
    redact_request,
    scan_request,
)

EMAIL = "jane.roe@example.com"
CARD = "4111111111111111"
JSON = dict[str, Any]


def _base(**fields: Any) -> JSON:
    return {"messages": [{"role": "user", "content": "Please help with the ticket."}], **fields}


def _tool(description: str = "Look up an order.", enum: list[Any] | None = None) -> JSON:
    schema: JSON = {"type": "string", "description": "the order id"}
    if enum is not None:
        schema["enum"] = enum
    function = {"name": "lookup", "description": description,
                "parameters": {"type": "object", "properties": {"order": schema}}}
    return {"type": "function", "function": function}


def _with_tool_call(call_id: str = "call_1", arguments: str = "{}") -> JSON:
    return {"messages": [
        {"role": "user", "content": "Look it up."},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": call_id, "type": "function", "function": {"name": "lookup", "arguments": arguments}}]},
        {"role": "tool", "tool_call_id": call_id, "content": "done"},
    ]}


def _user_parts(*parts: JSON) -> JSON:
    return {"messages": [{"role": "user", "content": [{"type": "text", "text": "see attached"}, *parts]}]}


# Where a value may sit in an OpenAI-style body: (name, body holding the value v).
OPENAI_FIELDS: list[tuple[str, Callable[[str], JSON]]] = [
    ("tool description", lambda v: _base(tools=[_tool(f"Orders placed by {v}.")])),
    ("tool enum", lambda v: _base(tools=[_tool(enum=["open", v])])),
    ("metadata value", lambda v: _base(metadata={"customer": v})),
    ("prediction", lambda v: _base(prediction={"type": "content", "content": f"Dear {v},"})),
    ("response_format", lambda v: _base(response_format={"type": "json_schema", "json_schema": {
        "name": "reply", "description": f"A reply to {v}", "schema": {"type": "object"}}})),
    ("stop string", lambda v: _base(stop=v)),
    ("stop list", lambda v: _base(stop=["END", v])),
    ("tool_choice", lambda v: _base(tool_choice={"type": "function", "function": {"name": v}})),
    ("safety_identifier", lambda v: _base(safety_identifier=v)),
    ("prompt_cache_key", lambda v: _base(prompt_cache_key=f"cache-{v}")),
    ("image_url URL", lambda v: _user_parts(
        {"type": "image_url", "image_url": {"url": f"https://files.example/scans/{v}/page1.png"}})),
    ("file name", lambda v: _user_parts({"type": "file", "file": {"filename": f"{v}.pdf", "file_id": "f1"}})),
    ("tool_call_id", lambda v: _with_tool_call(call_id=v)),
    ("unknown message field", lambda v: {"messages": [{"role": "user", "content": "hi", "note": v}]}),
]
_HI = [{"role": "user", "content": "hi"}]
ANTHROPIC_FIELDS: list[tuple[str, Callable[[str], JSON]]] = [
    ("anthropic tool description", lambda v: {
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [{"name": "lookup", "description": f"Orders of {v}", "input_schema": {"type": "object"}}]}),
    ("anthropic metadata", lambda v: {"messages": _HI, "metadata": {"user_id": v}}),
    ("anthropic stop_sequences", lambda v: {"messages": _HI, "stop_sequences": [v]}),
]


def _leaves(node: Any) -> Iterator[str]:
    """Every key, string and number of a JSON body, as text."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from _leaves(value)
    elif isinstance(node, list):
        for item in node:
            yield from _leaves(item)
    elif node is not None and not isinstance(node, bool):
        yield str(node)


ALL_FIELDS = OPENAI_FIELDS + ANTHROPIC_FIELDS


@pytest.mark.parametrize(("name", "build"), ALL_FIELDS, ids=[name for name, _ in ALL_FIELDS])
def test_a_value_anywhere_in_the_body_is_found_and_redacted(name: str, build: Callable[[str], JSON]) -> None:
    request = build(EMAIL)
    report = scan_request(request)
    assert "email" in report.kinds, f"{name}: not scanned"
    redaction = redact_request(request, report, [DataClass.PERSONAL])
    assert not any(EMAIL in leaf for leaf in _leaves(redaction.request)), f"{name}: left in the redacted body"
    assert any("<EMAIL_1>" in leaf for leaf in _leaves(redaction.request))


def test_a_tool_call_id_is_replaced_the_same_way_in_the_call_and_its_result() -> None:
    request = _with_tool_call(call_id=EMAIL)
    redacted = redact_request(request, scan_request(request), [DataClass.PERSONAL]).request
    messages = redacted["messages"]
    assert messages[1]["tool_calls"][0]["id"] == messages[2]["tool_call_id"] == "<EMAIL_1>"


@pytest.mark.parametrize("arguments", [
    json.dumps({"amount": float(CARD)}),           # '{"amount": 4111111111111111.0}'
    '{"amount": 4111111111111111.00}',
    json.dumps({"card": int(CARD)}),
])
def test_card_numbers_written_as_json_numbers_in_tool_arguments(arguments: str) -> None:
    assert "payment_card" in scan_request(_with_tool_call(arguments=arguments)).kinds


def test_float_and_integer_numbers_in_tool_inputs_are_cards_too() -> None:
    inputs = {"card": float(CARD), "other": int(CARD)}
    request = {"messages": [{"role": "assistant", "content": [
        {"type": "tool_use", "id": "t1", "name": "pay", "input": inputs}]}]}
    report = scan_request(request)
    assert report.kinds.get("payment_card") == 2
    redacted = redact_request(request, report).request
    assert CARD not in json.dumps(redacted)


def test_a_base64_image_payload_is_skipped_but_a_plain_url_is_read() -> None:
    payload = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk" * 20
    inline = _user_parts({"type": "image_url", "image_url": {"url": f"data:image/png;base64,{payload}"}})
    assert scan_request(inline).is_empty
    linked = _user_parts({"type": "image_url", "image_url": {"url": f"https://x.example/?email={EMAIL}"}})
    assert "email" in scan_request(linked).kinds


def test_an_object_key_or_a_number_parameter_cannot_be_redacted_so_redacting_ones_are_out() -> None:
    inside = [{"perimeter": "internal"}]
    policy = CompliancePolicy.model_validate({"rules": [
        {"name": "personal-redacted", "data_classes": ["personal"], "require_any": inside,
         "action": "redact"},
        {"name": "financial-inside", "data_classes": ["financial"], "require_any": inside},
    ]})
    candidates = {
        "inside": DeploymentAttributes(perimeter="internal", region="eu"),
        "outside": DeploymentAttributes(perimeter="external", region="us"),
    }
    in_a_key = _base(metadata={EMAIL: "vip"})
    decision = decide(scan_request(in_a_key), policy, candidates)
    assert decision.allowed == ("inside",)
    assert decision.verdict("outside").action == "exclude"
    assert "cannot be redacted" in json.dumps(decision.to_dict())
    with pytest.raises(ValueError, match="cannot be redacted"):
        redact_request(in_a_key, scan_request(in_a_key), [DataClass.PERSONAL])
    # the same value as a metadata value is redacted as usual
    as_value = decide(scan_request(_base(metadata={"vip": EMAIL})), policy, candidates)
    assert as_value.allowed == ("inside", "outside") and as_value.verdict("outside").action == "redact"
    # a card in a numeric parameter is found (and a financial rule keeps it inside)
    seeded = scan_request(_base(seed=int(CARD)))
    assert "payment_card" in seeded.kinds
    assert decide(seeded, policy, candidates).allowed == ("inside",)


def test_report_and_its_rendering_never_name_a_sensitive_object_key() -> None:
    report = scan_request(_base(metadata={EMAIL: "vip"}, tools=[_tool()]))
    assert report.kinds == {"email": 1}
    rendered = json.dumps(report.to_dict()) + repr(report)
    assert EMAIL not in rendered and "jane" not in rendered
    assert report.detections[0].location is not None
    assert report.detections[0].location.pointer == "metadata.*(key)"


def test_any_json_is_walked_without_error() -> None:
    odd = {"messages": [{"role": "user", "content": "hi", "meta": {"type": ["a"], "x": [{"type": {"k": 1}}]}}],
           "metadata": {"deep": [[[[[{"type": None, "v": 1.5e300, "w": float("inf")}]]]]]}}
    assert scan_request(odd).is_empty
