"""What a failure means to the resilience layer: one classification of every error.

The chain's own errors (``UpstreamRejected``, ``CircuitOpen``, ``StreamInterrupted``,
``NoEligibleDeployment``, ``AllCandidatesFailed``) live in the one error tree, ``interlock.errors``.

``is_client_error`` is the single place that decides whether a failure is the request's own
fault (passed on as is: no retry, no fallback, not held against the deployment).
"""

from __future__ import annotations

from enum import StrEnum

from interlock.errors import (
    AllCandidatesFailed,
    CircuitOpen,
    InterlockError,
    InvalidRequest,
    Overloaded,
    RateLimited,
    StreamInterrupted,
    UnsupportedParameter,
    UpstreamHTTPError,
    UpstreamKeyMissing,
    UpstreamRejected,
    UpstreamTimeout,
)

# A 401/403/404 from an upstream is about our key, our access or its model list, not the request.
DEPLOYMENT_SCOPED_STATUSES = frozenset({401, 403, 404})


class Outcome(StrEnum):
    OK = "ok"
    CLIENT_ERROR = "client_error"
    UPSTREAM_ERROR = "upstream_error"
    TIMEOUT = "timeout"
    RATE_LIMITED = "rate_limited"
    CIRCUIT_OPEN = "circuit_open"
    HEDGE_LOST = "hedge_lost"
    CANCELLED = "cancelled"


def as_client_error(exc: BaseException) -> BaseException:
    """What the caller receives for a client error: an upstream's refusal keeps its 4xx status."""
    return UpstreamRejected(exc) if isinstance(exc, UpstreamHTTPError) else exc



def is_client_error(exc: BaseException) -> bool:
    """True when the request itself is wrong, so no other attempt or deployment would do better."""
    if isinstance(exc, UpstreamHTTPError):
        return exc.is_client_error and exc.upstream_status not in DEPLOYMENT_SCOPED_STATUSES
    if isinstance(exc, UnsupportedParameter):
        return False  # another model may honour the parameter
    return isinstance(exc, InvalidRequest)


def blames_deployment(exc: BaseException) -> bool:
    """Whether a failure counts against the deployment's health and breaker.

    Failures the request caused (a client error, a parameter this deployment cannot honour, a body
    that cannot be encoded) say nothing about the deployment: five bad requests must not open a
    breaker for everyone else. Nor does a key variable that is not set: that is the operator's to fix,
    and an open breaker would only hide the cause.
    """
    return not (is_client_error(exc) or isinstance(exc, (InvalidRequest, UpstreamKeyMissing)))


def is_retryable(exc: BaseException) -> bool:
    """Worth another attempt on the *same* deployment (connection, 429, 5xx, timeout)."""
    if isinstance(exc, (CircuitOpen, StreamInterrupted, AllCandidatesFailed)):
        return False
    return isinstance(exc, InterlockError) and exc.retryable


def outcome_of(exc: BaseException) -> Outcome:
    if isinstance(exc, CircuitOpen):
        return Outcome.CIRCUIT_OPEN
    if is_client_error(exc):
        return Outcome.CLIENT_ERROR
    if isinstance(exc, UpstreamTimeout):
        return Outcome.TIMEOUT
    if isinstance(exc, RateLimited) or (isinstance(exc, UpstreamHTTPError) and exc.upstream_status == 429):
        return Outcome.RATE_LIMITED
    return Outcome.UPSTREAM_ERROR


def error_code(exc: BaseException) -> str:
    if isinstance(exc, UpstreamHTTPError):
        return f"upstream_{exc.upstream_status}"
    if isinstance(exc, InterlockError) and exc.code:
        return exc.code
    return type(exc).__name__


def relevance(exc: BaseException) -> int:
    """How much a failure says about the request, for choosing the one to report when all fail."""
    if is_client_error(exc):
        return 4
    if isinstance(exc, (RateLimited, Overloaded, UpstreamTimeout)) or outcome_of(exc) is Outcome.RATE_LIMITED:
        return 2
    if isinstance(exc, CircuitOpen):
        return 0
    return 1 if isinstance(exc, InterlockError) else 0
