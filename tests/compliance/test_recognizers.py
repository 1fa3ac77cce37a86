"""Each built-in recognizer on the cases that shaped it: what it reports and what it must not."""

from __future__ import annotations

import pytest

from interlock.compliance import BUILTIN_KINDS, DataClass, builtin_registry
from interlock.compliance.scanning import Scanner

SCANNER = Scanner()


def found(text: str) -> list[tuple[str, str]]:
    return [(d.kind, text[d.start : d.end]) for d in SCANNER.scan_text(text)]


def test_every_builtin_is_registered_under_its_kind_and_class() -> None:
    registry = builtin_registry()
    assert set(registry.names()) == set(BUILTIN_KINDS)
    assert BUILTIN_KINDS["iban"] is DataClass.FINANCIAL
    assert BUILTIN_KINDS["mrn"] is DataClass.HEALTH


def test_registry_rejects_duplicates_and_unknown_names() -> None:
    registry = builtin_registry()
    with pytest.raises(ValueError):
        registry.register("email", lambda: registry.create(["email"])[0])
    with pytest.raises(KeyError, match="unknown detector"):
        registry.create(["nope"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Card 4111 1111 1111 1111 exp 12/27", ("payment_card", "4111 1111 1111 1111")),
        ("Amex 3714 496353 98431.", ("payment_card", "3714 496353 98431")),
        ("shipped in 2024 4000000000006 today", ("payment_card", "4000000000006")),  # found by hypothesis
        ("paid 2024 4111 1111 1111 1111 ok", ("payment_card", "4111 1111 1111 1111")),
        ("IBAN: GB82 WEST 1234 5698 7654 32 thanks", ("iban", "GB82 WEST 1234 5698 7654 32")),
        ("SSN: 536-22-8191", ("us_ssn", "536-22-8191")),
        ("her SSN is 219450921", ("us_ssn", "219450921")),
        ("NINO SN 42 57 18 D", ("uk_nino", "SN 42 57 18 D")),
        ("from 203.0.113.45 again", ("ip_address", "203.0.113.45")),
        ("peer fe80::1ff:fe23:4567:890a%eth0 up", ("ip_address", "fe80::1ff:fe23:4567:890a%eth0")),
        ("call 1-212-555-0147 now", ("phone", "1-212-555-0147")),
        ("Routing number: 021000021", ("routing_number", "021000021")),
        ("Dx: E11.9", ("icd10", "E11.9")),
        ("DB_PASSWORD='Xk9#mQ2$vL'", ("password", "Xk9#mQ2$vL")),
    ],
)
def test_reports_the_value_span(text: str, expected: tuple[str, str]) -> None:
    assert expected in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "Order #1234567812345678 ships Monday.",  # fails Luhn
        "ORD-4111111111111111 is a reference",  # glued to a prefix
        "GB82WEST12345698765433 has a wrong check digit",
        "Upgrade to version 1.2.3.4 today.",
        "Windows build 10.0.19045.3803",
        "netmask 255.255.255.0 and 127.0.0.1",
        "started at 12:30:45, MAC 00:1A:2B:3C:4D:5E",
        "request 482913375 took 20ms",  # nine digits, no SSN wording
        "routing number 123456789",  # fails the ABA checksum
        "Log id 021000021 from the batch",  # a valid checksum alone is not enough
        "GB123456A and QQ123456C",  # NINO prefixes never issued
        "What is attorney-client privilege?",
        "Write a blog post about diabetes prevention.",
        "password: required, Password: ********, password=${DB_PASSWORD}",
        "Set OPENAI_API_KEY=sk-... in your shell",
        "Retina assets: logo@2x.png",
        "Case number 123-456-7890 was closed.",
        "Phone list: 415-555-2671-8899-1234",
    ],
)
def test_tricky_negatives_report_nothing(text: str) -> None:
    assert found(text) == []


def test_ibans_listed_back_to_back_are_each_found() -> None:
    text = "Accounts: AT611904300234573201 GB29NWBK60161331926819"
    assert [k for k, _ in found(text)] == ["iban", "iban"]


def test_medical_terms_need_a_patient_in_the_sentence() -> None:
    assert found("Metformin lowers glucose. Patient takes metformin daily.") == [
        ("medical_term_in_patient_context", "metformin")
    ]


def test_private_key_block_is_one_span() -> None:
    text = "key:\n-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIIrY\n-----END EC PRIVATE KEY-----\nbye"
    ((kind, value),) = found(text)
    assert kind == "private_key" and value.startswith("-----BEGIN") and value.endswith("KEY-----")


def test_text_whose_lower_case_is_longer_keeps_spans_aligned() -> None:
    text = "İİİİ Patient was diagnosed with asthma."
    ((kind, value),) = found(text)
    assert (kind, value) == ("medical_term_in_patient_context", "asthma")
