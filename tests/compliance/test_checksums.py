"""Checksum and issuing rules, against published examples."""

from __future__ import annotations

import pytest

from interlock.compliance.checksums import (
    aba_routing_valid,
    card_number_valid,
    iban_check_digits,
    iban_valid,
    luhn_check_digit,
    luhn_valid,
    nino_valid,
    ssn_valid,
)


@pytest.mark.parametrize(
    "number", ["4111111111111111", "378282246310005", "6011111111111117", "5105105105105100"]
)
def test_published_test_cards_pass(number: str) -> None:
    assert luhn_valid(number)
    assert card_number_valid(number)


def test_luhn_rejects_a_changed_digit_and_check_digit_completes() -> None:
    assert not luhn_valid("4111111111111112")
    assert luhn_check_digit("411111111111111") == "1"


def test_luhn_valid_number_outside_every_card_range_is_not_a_card() -> None:
    assert luhn_valid("9999999999999995")
    assert not card_number_valid("9999999999999995")
    assert not card_number_valid("41111111111111")  # Visa prefix, but 14 digits


@pytest.mark.parametrize(
    "iban",
    ["DE89370400440532013000", "GB82WEST12345698765432", "FR1420041010050500013M02606", "NO9386011117947"],
)
def test_published_ibans_pass(iban: str) -> None:
    assert iban_valid(iban)
    assert iban_valid(iban.lower())


def test_iban_rejects_wrong_check_digits_length_and_country() -> None:
    assert not iban_valid("GB82WEST12345698765433")
    assert not iban_valid("DE8937040044053201300")  # one short
    assert not iban_valid("XX89370400440532013000")


def test_iban_check_digits_build_a_valid_iban() -> None:
    assert iban_check_digits("DE", "370400440532013000") == "89"


def test_aba_checksum_and_prefix() -> None:
    assert aba_routing_valid("021000021")
    assert not aba_routing_valid("021000022")
    assert not aba_routing_valid("999999999")  # checksum aside, 99 is no Federal Reserve district
    assert not aba_routing_valid("12345678")


def test_ssn_issuing_rules() -> None:
    assert ssn_valid("536", "22", "8191")
    assert not ssn_valid("000", "12", "3456")
    assert not ssn_valid("666", "12", "3456")
    assert not ssn_valid("912", "34", "5678")
    assert not ssn_valid("123", "00", "4567")
    assert not ssn_valid("123", "45", "0000")
    assert not ssn_valid("078", "05", "1120")  # voided after appearing in advertising


def test_nino_prefix_rules() -> None:
    assert nino_valid("AB")
    assert nino_valid("jg")
    for bad in ("DA", "QQ", "AO", "GB", "BG", "NK", "ZZ"):
        assert not nino_valid(bad), bad
