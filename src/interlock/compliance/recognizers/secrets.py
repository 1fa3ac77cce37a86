"""Secrets in text: provider API keys and tokens, PEM/OpenSSH private keys, and written passwords.

Keys are found by their issuers' published prefixes and shapes; a generic ``api_key = ...``
assignment counts only when its value looks random (letters and digits, no placeholder words).
"""

from __future__ import annotations

import re

from interlock.compliance.detection import DataClass
from interlock.compliance.recognizers.patterns import AnyOfDetector, PatternDetector, is_word_char

SECRET = DataClass.SECRET

# (needle, pattern): each pattern starts with its literal prefix so the regex engine can skip ahead.
_KEY_SHAPES: tuple[tuple[str, str], ...] = (
    ("sk-", r"sk-(?:proj-|ant-(?:api|admin)\d\d-|svcacct-|or-v1-)?[A-Za-z0-9_-]{20,}"),  # OpenAI, Anthropic
    ("akia", r"(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}(?![0-9A-Za-z])"),  # AWS access key id
    ("gh", r"gh[pousr]_[A-Za-z0-9]{36,255}"),  # GitHub tokens
    ("github_pat_", r"github_pat_[A-Za-z0-9_]{22,255}"),
    ("glpat-", r"glpat-[A-Za-z0-9_-]{20,}"),  # GitLab
    ("xox", r"xox[abposr]-[A-Za-z0-9-]{10,}"),  # Slack
    ("_live_", r"(?:sk|rk)_live_[A-Za-z0-9]{16,}"),  # Stripe secret and restricted keys
    ("_test_", r"(?:sk|rk)_test_[A-Za-z0-9]{16,}"),
    ("aiza", r"AIza[0-9A-Za-z_-]{35}"),  # Google API key
    ("hf_", r"hf_[A-Za-z0-9]{30,}"),  # Hugging Face
    ("eyj", r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),  # JWT
)
_PLACEHOLDER = re.compile(r"x{4,}|\.\.\.|your|example|placeholder|redacted|<|\*{3,}", re.IGNORECASE)


def _random_looking(value: str) -> bool:
    has_digit = any(ch.isdigit() for ch in value)
    has_alpha = any(ch.isalpha() for ch in value)
    distinct = len(set(value)) >= min(10, len(value) // 2)
    return has_digit and has_alpha and distinct and not _PLACEHOLDER.search(value)


def _token_span(match: re.Match[str], text: str) -> tuple[int, int] | None:
    start, end = match.span("value") if "value" in match.re.groupindex else match.span()
    if is_word_char(text, start - 1) and "value" not in match.re.groupindex:
        return None  # "task-..." is not "sk-..."
    return (start, end) if _random_looking(text[start:end]) else None


_BEARER = re.compile(r"\bBearer\s+(?P<value>[A-Za-z0-9._~+/-]{20,}=*)")
_ASSIGNED_KEY = re.compile(
    r"(?<![A-Za-z0-9])(?i:api[_-]?key|apikey|secret[_-]?(?:access[_-]?)?key|access[_-]?token|"
    r"auth[_-]?token|client[_-]?secret|"
    r"x-api-key|private[_-]?token)[\"']?\s*[:=]\s*[\"']?(?P<value>[A-Za-z0-9_\-./+]{16,})"
)


# A cloud access key in a labelled field counts whatever it holds, the documented example keys
# (AKIAIOSFODNN7EXAMPLE) included: the field is where a real key goes. Template text ("YOUR_KEY",
# "<secret>", "xxxx") is still not a key.
_CLOUD_KEY_FIELD = re.compile(
    r"(?<![A-Za-z0-9])(?i:(?:aws[_ -]?)?(?:secret[_ -]?)?access[_ -]?key(?:[_ -]?id)?)[\"']?"
    r"\s*(?:[:=]|\b(?i:is)\b)\s*[\"']?(?P<value>[A-Za-z0-9/+=]{16,128})(?![A-Za-z0-9/+=])"
)
_TEMPLATE = re.compile(r"x{4,}|your|placeholder|redacted|changeme|\*{3,}", re.IGNORECASE)


def _cloud_key_span(match: re.Match[str], text: str) -> tuple[int, int] | None:
    return None if _TEMPLATE.search(match.group("value")) else match.span("value")


def api_key() -> AnyOfDetector:
    shaped = [
        PatternDetector(
            f"api_key:{needle}", "api_key", SECRET, re.compile(pattern), _token_span, needles=(needle,)
        )
        for needle, pattern in _KEY_SHAPES
    ]
    return AnyOfDetector(
        "api_key",
        (
            *shaped,
            PatternDetector(
                "bearer_token", "api_key", SECRET, _BEARER, _token_span, needles=("bearer",), anchored=True
            ),
            PatternDetector(
                "cloud_access_key_field",
                "api_key",
                SECRET,
                _CLOUD_KEY_FIELD,
                _cloud_key_span,
                needles=("accesskey", "access_key", "access key", "access-key"),
                window=(24, 200),
            ),
            PatternDetector(
                "assigned_key",
                "api_key",
                SECRET,
                _ASSIGNED_KEY,
                _token_span,
                needles=("key", "token", "secret"),
                window=(24, 300),
            ),
        ),
    )


_PRIVATE_KEY = re.compile(
    r"-----BEGIN (?P<label>[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?)-----"
    r"(?:.*?-----END (?P=label)-----|[A-Za-z0-9+/=\s\\:-]*)",
    re.DOTALL,
)


def private_key() -> PatternDetector:
    return PatternDetector(
        "private_key",
        "private_key",
        SECRET,
        _PRIVATE_KEY,
        needles=("PRIVATE KEY",),
        case_sensitive_needles=True,
    )


_PASSWORD = re.compile(
    r"(?<![A-Za-z0-9])(?i:password|passwd|pwd|passphrase|passcode)[\"']?\s*(?:[:=]|\b(?i:is|was)\b)\s*[\"'`]?"
    r"(?P<value>[^\s\"'`\\,;<>]{4,64})"
)
# scheme://user:secret@host: the secret part of a connection string.
_URL_PASSWORD = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s:/@\"']+:(?P<value>[^\s:/@\"']{3,})@")
_WORDY = re.compile(r"[A-Za-z]+[.!]?")


def _password_span(match: re.Match[str], text: str) -> tuple[int, int] | None:
    value = match.group("value").rstrip(".")
    if _WORDY.fullmatch(value) or _PLACEHOLDER.search(value) or value.startswith(("${", "{{", "%(", "$")):
        return None  # "password: required", "password=${DB_PASSWORD}"
    start = match.start("value")
    return start, start + len(value)


def password() -> AnyOfDetector:
    return AnyOfDetector(
        "password",
        (
            PatternDetector(
                "password",
                "password",
                SECRET,
                _PASSWORD,
                _password_span,
                needles=("pass", "pwd"),
                anchored=True,
            ),
            PatternDetector(
                "url_password", "password", SECRET, _URL_PASSWORD, _password_span, needles=("://",)
            ),
        ),
    )
