"""The built-in recognizers, registered by name the same way an extension registers its own."""

from __future__ import annotations

from interlock.compliance.detection import DataClass, DetectorFactory, DetectorRegistry
from interlock.compliance.recognizers.contact import date_of_birth, email, person_name, phone, postal_address
from interlock.compliance.recognizers.financial import (
    IbanDetector,
    PaymentCardDetector,
    account_number,
    routing_number,
)
from interlock.compliance.recognizers.health import Icd10Detector, MedicalTermDetector, mrn
from interlock.compliance.recognizers.identifiers import ip_address, uk_nino, us_ssn
from interlock.compliance.recognizers.legal import privilege_marker
from interlock.compliance.recognizers.secrets import api_key, password, private_key

BUILTIN_FACTORIES: dict[str, DetectorFactory] = {
    "email": email,
    "phone": phone,
    "us_ssn": us_ssn,
    "uk_nino": uk_nino,
    "ip_address": ip_address,
    "date_of_birth": date_of_birth,
    "postal_address": postal_address,
    "person_name": person_name,
    "payment_card": PaymentCardDetector,
    "iban": IbanDetector,
    "account_number": account_number,
    "routing_number": routing_number,
    "mrn": mrn,
    "icd10": Icd10Detector,
    "medical_term_in_patient_context": MedicalTermDetector,
    "privilege_marker": privilege_marker,
    "api_key": api_key,
    "private_key": private_key,
    "password": password,
}

# The kind each built-in reports (it shares the recognizer's name) and that kind's data class.
BUILTIN_KINDS: dict[str, DataClass] = {
    **dict.fromkeys(
        (
            "email",
            "phone",
            "us_ssn",
            "uk_nino",
            "ip_address",
            "date_of_birth",
            "postal_address",
            "person_name",
        ),
        DataClass.PERSONAL,
    ),
    **dict.fromkeys(("payment_card", "iban", "account_number", "routing_number"), DataClass.FINANCIAL),
    **dict.fromkeys(("mrn", "icd10", "medical_term_in_patient_context"), DataClass.HEALTH),
    "privilege_marker": DataClass.PRIVILEGED,
    **dict.fromkeys(("api_key", "private_key", "password"), DataClass.SECRET),
}


def register_builtins(registry: DetectorRegistry) -> DetectorRegistry:
    for name, factory in BUILTIN_FACTORIES.items():
        registry.register(name, factory)
    return registry


def builtin_registry() -> DetectorRegistry:
    """A fresh registry holding every built-in recognizer."""
    return register_builtins(DetectorRegistry())
