"""Contact details and personal descriptors: email, phone, postal address, date of birth, person name.

Free-text names and addresses have no checksum, so these recognizers lean on form (street
suffixes, honorifics, labelled fields, "date of birth") and report nothing they cannot anchor.
"""

from __future__ import annotations

import re

from interlock.compliance.detection import DataClass
from interlock.compliance.recognizers.patterns import (
    AnyOfDetector,
    PatternDetector,
    Validator,
    is_word_char,
    value_span,
)

PERSONAL = DataClass.PERSONAL

# The local part may hold an apostrophe between letters (o'brien@...); a match must not start
# inside such a name, or "o'" would be left behind when the rest is redacted.
_EMAIL = re.compile(
    r"(?<![\w.%+-])(?<!\w')[A-Za-z0-9](?:[A-Za-z0-9._%+'-]{0,62}[A-Za-z0-9_%+-])?"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+(?P<tld>[A-Za-z]{2,24})(?![\w-]|\.[A-Za-z0-9])"
)
# "icon@2x.png" is a retina image name, not a mailbox.
_FILE_SUFFIXES = frozenset({"png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "bmp", "tif", "tiff", "avif"})


_URL_USERINFO = re.compile(r"://[^\s/@]*$")


def _email_span(match: re.Match[str], text: str) -> tuple[int, int] | None:
    if match.group("tld").lower() in _FILE_SUFFIXES:
        return None
    if _URL_USERINFO.search(text, max(0, match.start() - 100), match.start()):
        return None  # "postgres://user:secret@db.host" is a login inside a URL, not a mailbox
    return match.span()


def email() -> PatternDetector:
    return PatternDetector(
        "email",
        "email",
        PERSONAL,
        _EMAIL,
        _email_span,
        needles=("@",),
        case_sensitive_needles=True,
        window=(80, 260),
    )


# International form: a plus, a country code and 2-6 groups; 8-15 digits in all (E.164).
_PHONE_INTL = re.compile(r"\+(?<![\w+]\+)[1-9]\d{0,2}(?:[ .-]?\(?\d{1,4}\)?){2,6}(?![\w+]|[.-]\d)")
# North American forms: (NPA) NXX-XXXX and NPA-NXX-XXXX with valid area and exchange digits.
# Patterns open with a literal or a digit so the regex engine can skip ahead to candidates.
_PHONE_PAREN = re.compile(r"\((?P<area>[2-9]\d\d)\) ?[2-9]\d\d[ .-]\d{4}(?![\w-]|\.\d)")
_PHONE_DASHED = re.compile(r"(?P<area>[2-9](?<![\w+.][2-9])\d\d)[ .-][2-9]\d\d[ .-]\d{4}(?![\w-]|\.\d)")
# National forms elsewhere (07700 900123, 020 7946 0958) only after a naming word.
_PHONE_WORDS = (
    "phone",
    "tel",
    "mobile",
    "cell",
    "fax",
    "whatsapp",
    "contact number",
    "call me",
    "text me",
    "ring me",
)
_PHONE_NAMED = re.compile(
    r"\b(?:phone|tel|telephone|mobile|cell|cellphone|fax|whatsapp|contact number|call me (?:on|at)|"
    r"text me (?:on|at)|ring me on)\b[^\d+\n]{0,20}?(?P<value>\+?\(?\d[\d ().-]{6,20}\d)(?![\w-])",
    re.IGNORECASE,
)
_VERSION_LIKE = re.compile(r"^\d{1,2}\.\d{1,2}\.")


def _digits_between(low: int, high: int) -> Validator:
    def check(match: re.Match[str], text: str) -> tuple[int, int] | None:
        raw = match.group("value") if "value" in match.re.groupindex else match.group()
        digits = sum(ch.isdigit() for ch in raw)
        if not low <= digits <= high or _VERSION_LIKE.match(raw):
            return None
        return value_span(match, text)

    return check


def _nanp_span(match: re.Match[str], text: str) -> tuple[int, int] | None:
    if match.group("area")[1:] == "11":
        return None  # N11 codes are service numbers
    start = match.start()
    if start > 0 and text[start - 1] in "-.":
        # Only a "1-" trunk prefix may join the number; "INV-555-..." is a reference.
        if start < 2 or text[start - 2] != "1" or is_word_char(text, start - 3):
            return None
        if start >= 3 and text[start - 3] in "+-.":
            return None
        start -= 2
    return start, match.end()


def phone() -> AnyOfDetector:
    return AnyOfDetector(
        "phone",
        (
            PatternDetector(
                "phone_intl",
                "phone",
                PERSONAL,
                _PHONE_INTL,
                _digits_between(8, 15),
                needles=("+",),
                case_sensitive_needles=True,
            ),
            PatternDetector(
                "phone_paren",
                "phone",
                PERSONAL,
                _PHONE_PAREN,
                _nanp_span,
                needles=("(",),
                case_sensitive_needles=True,
            ),
            PatternDetector("phone_dashed", "phone", PERSONAL, _PHONE_DASHED, _nanp_span),
            PatternDetector(
                "phone_named",
                "phone",
                PERSONAL,
                _PHONE_NAMED,
                _digits_between(9, 15),
                needles=_PHONE_WORDS,
                anchored=True,
            ),
        ),
    )


_SUFFIX = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|"
    r"Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Trail|Close|Crescent|Gardens|Grove|Row|Mews|Walk)"
)
_UK_POSTCODE = r"(?:[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? \d[ABD-HJLNP-UW-Z]{2})"
_STREET_ADDRESS = re.compile(
    r"\d(?<![\w.-]\d)\d{0,4}[A-Za-z]?,? "
    rf"(?:(?:[A-Z][A-Za-z'-]*\.?|\d+(?:st|nd|rd|th)) ){{1,4}}{_SUFFIX}\b\.?"
    r"(?: (?:N|S|E|W|NE|NW|SE|SW)\b)?"
    r"(?:,? (?:Apt|Apartment|Suite|Ste|Unit|Flat|#)\.? ?[\w-]+)?"
    rf"(?:,? [A-Z][A-Za-z .'-]{{1,30}},? (?:[A-Z]{{2}} \d{{5}}(?:-\d{{4}})?|{_UK_POSTCODE}))?"
)
# A postcode alone is reported only when the text says it is one.
_NAMED_POSTCODE = re.compile(
    rf"\b(?:post ?code|postal code|zip(?: code)?|address)\b\W{{0,3}}(?:(?:is|was)\W{{1,3}})?"
    rf"(?P<value>{_UK_POSTCODE}|\d{{5}}(?:-\d{{4}})?)\b",
    re.IGNORECASE,
)


def postal_address() -> AnyOfDetector:
    return AnyOfDetector(
        "postal_address",
        (
            PatternDetector("street_address", "postal_address", PERSONAL, _STREET_ADDRESS),
            PatternDetector(
                "postcode",
                "postal_address",
                PERSONAL,
                _NAMED_POSTCODE,
                needles=("post", "zip", "address"),
                anchored=True,
            ),
        ),
    )


_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DATE = (
    rf"(?:(?P<iso_y>\d{{4}})[-/.](?P<iso_m>\d{{1,2}})[-/.](?P<iso_d>\d{{1,2}})"
    rf"|(?P<n1>\d{{1,2}})[-/.](?P<n2>\d{{1,2}})[-/.](?P<ny>\d{{4}}|\d{{2}})"
    rf"|(?P<dm_d>\d{{1,2}})(?:st|nd|rd|th)? (?:of )?{_MONTHS}\.?,? (?P<dm_y>\d{{4}})"
    rf"|{_MONTHS}\.? (?P<md_d>\d{{1,2}})(?:st|nd|rd|th)?,? (?P<md_y>\d{{4}}))"
)
_DOB = re.compile(
    rf"\b(?:d\.?o\.?b|date of birth|birth ?date|birthday|born(?: on)?)\b\.?[^\n\d]{{0,12}}?"
    rf"(?P<value>{_DATE})(?![\w/.-]?\d)",
    re.IGNORECASE,
)


def _plausible_date(match: re.Match[str], text: str) -> tuple[int, int] | None:
    g = match.groupdict()
    if g["iso_y"]:
        ok = 1 <= int(g["iso_m"]) <= 12 and 1 <= int(g["iso_d"]) <= 31 and 1880 <= int(g["iso_y"]) <= 2100
    elif g["n1"]:
        a, b = int(g["n1"]), int(g["n2"])
        ok = 1 <= min(a, b) <= 12 and max(a, b) <= 31
    else:
        day = int(g["dm_d"] or g["md_d"])
        ok = 1 <= day <= 31
    return match.span("value") if ok else None


def date_of_birth() -> PatternDetector:
    return PatternDetector(
        "date_of_birth",
        "date_of_birth",
        PERSONAL,
        _DOB,
        _plausible_date,
        needles=("dob", "d.o.b", "date of birth", "birth", "born"),
        anchored=True,
    )


# Capitalised name words, with O'Neil, McDonald and Garcia-Lopez forms.
_NAME = r"(?:[A-Z]'[A-Z][a-z]+|[A-Z][a-z]+(?:[A-Z][a-z]+)?(?:-[A-Z][a-z]+)?)"
# Names are reported only where the text marks them: an honorific, or a labelled field.
_HONORIFIC_NAME = re.compile(rf"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.? (?P<value>{_NAME}(?: {_NAME}){{0,2}})\b")
_NAME_LABELS = (
    "patient",
    "full name",
    "name",
    "client",
    "customer",
    "employee",
    "insured",
    "member",
    "beneficiary",
    "claimant",
    "defendant",
    "plaintiff",
    "applicant",
    "tenant",
    "account holder",
    "cardholder",
)
_LABELLED_NAME = re.compile(
    r"\b(?i:patient|full name|name|client|customer|employee|insured|member|beneficiary|claimant|"
    r"defendant|plaintiff|applicant|tenant|account holder|cardholder)(?:'s)?(?i: name)? ?: ?"
    rf"(?P<value>{_NAME}(?: [A-Z]\.)?(?: {_NAME}){{1,2}})\b"
)


def person_name() -> AnyOfDetector:
    return AnyOfDetector(
        "person_name",
        (
            PatternDetector(
                "honorific_name",
                "person_name",
                PERSONAL,
                _HONORIFIC_NAME,
                needles=("Mr", "Ms", "Miss", "Mx", "Dr", "Prof"),
                case_sensitive_needles=True,
                anchored=True,
            ),
            PatternDetector(
                "labelled_name", "person_name", PERSONAL, _LABELLED_NAME, needles=_NAME_LABELS, anchored=True
            ),
        ),
    )
