"""A generated corpus of sensitive values (plain and obfuscated) and a check that none reached a body.

Shared by the property tests: each value comes with its data class and the plain form a leak
check looks for; ``appears_in`` folds what an upstream received independently of the code under
test (NFKC, format characters dropped, dashes unified) and allows separators between characters.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from interlock.compliance.checksums import IBAN_LENGTHS, iban_check_digits, luhn_check_digit, ssn_valid


@dataclass(frozen=True)
class Sensitive:
    kind: str
    data_class: str
    text: str  # as placed in the request (maybe obfuscated, maybe with its label)
    secret: str  # the part that must never reach an outside deployment unredacted, plainly written
    number: int | None = None  # the value as a JSON number, where it is one


def _digits(draw: st.DrawFn, count: int) -> str:
    return "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=count, max_size=count)))


@st.composite
def cards(draw: st.DrawFn) -> Sensitive:
    prefix = draw(st.sampled_from(["4", "51", "55", "2221", "6011", "3528"]))
    body = prefix + _digits(draw, 15 - len(prefix))
    number = body + luhn_check_digit(body)
    groups = [number[i : i + 4] for i in range(0, 16, 4)]
    text = draw(st.sampled_from([number, " ".join(groups), "-".join(groups), "\u2013".join(groups),
                                 "\u200b".join(groups), _fullwidth(number)]))
    return Sensitive("payment_card", "financial", text, number, int(number))


@st.composite
def ibans(draw: st.DrawFn) -> Sensitive:
    country = draw(st.sampled_from(["DE", "GB", "FR", "NL", "ES"]))
    bban = _digits(draw, IBAN_LENGTHS[country] - 4)
    compact = country + iban_check_digits(country, bban) + bban
    grouped = " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
    return Sensitive("iban", "financial", draw(st.sampled_from([compact, grouped])), compact)


@st.composite
def ssns(draw: st.DrawFn) -> Sensitive:
    area, group, serial = draw(st.integers(1, 665)), draw(st.integers(1, 99)), draw(st.integers(1, 9999))
    parts = [f"{area:03d}", f"{group:02d}", f"{serial:04d}"]
    if not ssn_valid(*parts):
        parts = ["536", "22", "8191"]
    dash = draw(st.sampled_from(["-", "\u2013", "\u2014"]))
    return Sensitive("us_ssn", "personal", dash.join(parts), "-".join(parts))


@st.composite
def emails(draw: st.DrawFn) -> Sensitive:
    local = draw(st.from_regex(r"[a-z]{2,6}(?:[.'][a-z]{2,6})?", fullmatch=True))
    domain = draw(st.from_regex(r"[a-z]{3,8}", fullmatch=True))
    address = f"{local}@{domain}.{draw(st.sampled_from(['com', 'org', 'co.uk', 'de']))}"
    return Sensitive("email", "personal", address, address)


@st.composite
def aws_keys(draw: st.DrawFn) -> Sensitive:
    # Real key ids are random: sixteen distinct characters, digits among them ("AKIAAAAA..." is not a key).
    tail = draw(st.lists(st.sampled_from("ABCDEFGHJKLMNPQRSTUVWXYZ"), min_size=13, max_size=13, unique=True))
    key = "AKIA" + "".join(draw(st.permutations([*tail, "2", "5", "7"])))
    return Sensitive("api_key", "secret", key, key)


@st.composite
def mrns(draw: st.DrawFn) -> Sensitive:
    number = str(draw(st.integers(10_000_000, 99_999_999)))
    return Sensitive("mrn", "health", f"MRN: {number}", number)


@st.composite
def ninos(draw: st.DrawFn) -> Sensitive:
    prefix = draw(st.sampled_from(["JG", "SN", "CE", "TW"]))
    value = f"{prefix}{_digits(draw, 6)}{draw(st.sampled_from('ABCD'))}"
    return Sensitive("uk_nino", "personal", value, value)


SENSITIVE = st.one_of(cards(), ibans(), ssns(), emails(), aws_keys(), mrns(), ninos())


def _fullwidth(digits: str) -> str:
    return "".join(chr(0xFF10 + int(d)) for d in digits)


_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"), "-")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_DASHES)
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def leaves(node: Any) -> Iterator[str]:
    """Every key, string and number of a JSON body, as text."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from leaves(value)
    elif isinstance(node, list):
        for item in node:
            yield from leaves(item)
    elif node is not None and not isinstance(node, bool):
        yield str(node)


def appears_in(secret: str, bodies: Iterable[Any]) -> bool:
    """Whether ``secret`` can be read in any body, written with up to two separator characters
    between its characters (spaces, dashes, dots), in any Unicode compatibility form."""
    skeleton = [ch for ch in secret if ch.isalnum()]
    pattern = re.compile("[^A-Za-z0-9]{0,2}".join(map(re.escape, skeleton)), re.IGNORECASE)
    return any(pattern.search(_fold(leaf)) for body in bodies for leaf in leaves(body))
