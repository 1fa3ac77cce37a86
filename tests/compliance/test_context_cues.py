"""Context the recognizers must read: diagnosis codes after "coded as", conditions of a third person,
labelled fields whatever their value; and context that must not trip them (versions after "to",
apostrophes in mailboxes).
"""

from __future__ import annotations

import pytest

from interlock.compliance import DataClass, redact_request, scan_request
from interlock.compliance.scanning import Scanner


def found(text: str) -> list[tuple[str, str]]:
    return [(d.kind, text[d.start : d.end]) for d in Scanner().scan_text(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The visit was coded as E11.9 by the billing team.", ("icd10", "E11.9")),
        ("Claim line coded under F41.1; resubmit.", ("icd10", "F41.1")),
        ("Encounter coded with J45.909 and Z79.4", ("icd10", "J45.909")),
    ],
)
def test_icd10_codes_after_coded_as(text: str, expected: tuple[str, str]) -> None:
    assert expected in found(text)


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("My neighbour Tom has schizophrenia and stopped going out.", "schizophrenia"),
        ("She has bipolar disorder, so the schedule needs to be flexible.", "bipolar disorder"),
        ("He was struggling with depression all winter.", "depression"),
        ("Her epilepsy makes driving impossible.", "epilepsy"),
        ("Our manager Priya is living with HIV and asked for discretion.", "hiv"),
        ("My brother-in-law had a stroke last year.", "stroke"),
        ("I have type 2 diabetes and need a meal plan.", "diabetes"),
    ],
)
def test_a_condition_of_a_named_or_third_person_counts_without_a_patient_cue(text: str, term: str) -> None:
    assert ("medical_term_in_patient_context", term) in [(k, v.lower()) for k, v in found(text)]


@pytest.mark.parametrize(
    "text",
    [
        "Diabetes has become more common in the last decade.",
        "Anyone who has asthma should carry an inhaler.",
        "This has cancer research implications.",
        "In his lecture on diabetes, the professor cited new data.",
        "People with epilepsy have rights at work.",
        "What is the difference between type 1 diabetes and type 2 diabetes?",
    ],
)
def test_general_statements_about_conditions_stay_clean(text: str) -> None:
    assert not [k for k, _ in found(text) if k == "medical_term_in_patient_context"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SSN: 078-05-1120", ("us_ssn", "078-05-1120")),  # the voided Woolworth number, in a field
        ('{"ssn": "123-45-6789"}', ("us_ssn", "123-45-6789")),
        ("Social security number: 000-12-3456", ("us_ssn", "000-12-3456")),
        ("NI number: QQ 12 34 56 C", ("uk_nino", "QQ 12 34 56 C")),
        ("National Insurance No. QQ123456C", ("uk_nino", "QQ123456C")),
        ('{"nino": "AB123456E"}', ("uk_nino", "AB123456E")),
        ("NI: QQ123456C", ("uk_nino", "QQ123456C")),
        ("aws_access_key_id = AKIAIOSFODNN7EXAMPLE", ("api_key", "AKIAIOSFODNN7EXAMPLE")),
        ("aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
         ("api_key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")),
        ('"AccessKeyId": "ASIAIOSFODNN7EXAMPLE"', ("api_key", "ASIAIOSFODNN7EXAMPLE")),
        ("Access key ID: AKIAI44QH8DHBEXAMPLE", ("api_key", "AKIAI44QH8DHBEXAMPLE")),
    ],
)
def test_labelled_fields_count_whatever_the_value(text: str, expected: tuple[str, str]) -> None:
    assert expected in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "The voided sample SSN 078-05-1120 was printed on wallet inserts.",  # a mention, not a field
        "Part QQ123456C is the HMRC sample.",
        "AKIAIOSFODNN7EXAMPLE is the key used in the AWS docs.",
        "api_key: YOUR_API_KEY_HERE",
        "aws_secret_access_key = <your secret key>",
        "SSN: required",
    ],
)
def test_mentions_and_placeholders_are_not_fields(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Upgrade the agent from 2.4.1.0 to 2.5.0.0 before Friday.",
        "Bump the driver version from 10.2.0.1 to 10.2.0.3 in the manifest.",
        "We moved the firmware to 4.1.0.12 and then back to 4.1.0.9.",
        "Release 3.1.2.0 -> 3.1.2.1 fixes the crash.",
    ],
)
def test_a_version_after_to_is_not_an_address(text: str) -> None:
    assert [k for k, _ in found(text) if k == "ip_address"] == []


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("Route the traffic to 203.0.113.45 after the upgrade.", "203.0.113.45"),
        ("Login attempts from 198.51.100.7 to 198.51.100.9 were blocked.", "198.51.100.9"),
        ("Point the DNS record to 192.0.2.10.", "192.0.2.10"),
    ],
)
def test_an_address_after_to_is_still_an_address(text: str, address: str) -> None:
    assert ("ip_address", address) in found(text)


@pytest.mark.parametrize(
    "address", ["o'brien@example.com", "mary.o'neil@corp.example.org", "d'angelo.r@example.it"]
)
def test_an_email_with_an_apostrophe_is_found_and_redacted_whole(address: str) -> None:
    text = f"Forward it to {address} today."
    assert ("email", address) in found(text)
    request = {"messages": [{"role": "user", "content": text}]}
    redacted = redact_request(request, scan_request(request), [DataClass.PERSONAL]).request
    sent = redacted["messages"][0]["content"]
    assert sent == "Forward it to <EMAIL_1> today."


def test_a_quoted_email_does_not_swallow_its_quotes() -> None:
    assert found("email='jane@example.com'") == [("email", "jane@example.com")]
