"""What a failure means to the resilience layer: its extra errors and one classification.

The errors below extend the project's one error tree (``interlock.errors``):

    InvalidRequest
    └── UpstreamRejected     4xx an upstream refused the request itself (its status, its message)
    UpstreamError
    ├── CircuitOpen          503 the deployment's breaker is open; another deployment may serve
    ├── StreamInterrupted    502 the upstream broke after chunks reached the caller (not retryable)
    ├── NoEligibleDeployment 503 the filter (compliance) or the plan left no deployment to try
    └── AllCandidatesFailed  (status of the most relevant failure) every candidate failed

``is_client_error`` is the single place that decides whether a failure is the request's own
fault (passed on as is: no retry, no fallback, not held against the deployment).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from interlock.errors import (
    InterlockError,
    InvalidRequest,
    Overloaded,
    RateLimited,
    UnsupportedParameter,
    UpstreamError,
    UpstreamHTTPError,
    UpstreamKeyMissing,
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


class UpstreamRejected(InvalidRequest):
    """An upstream answered 4xx about the request itself: the client's to fix, so it gets that 4xx
    (an SDK retries a 5xx, which would only send the same bad request again)."""

    def __init__(self, error: UpstreamHTTPError) -> None:
        body = error.body if isinstance(error.body, dict) else {}
        detail = body.get("error") if isinstance(body.get("error"), dict) else {}
        code = detail.get("code") if isinstance(detail.get("code"), str) else None
        param = _str_or_none(detail.get("param"))
        super().__init__(error.message, code=code or "upstream_rejected_request", param=param)
        self.status = error.upstream_status  # type: ignore[misc]
        self.deployment = error.deployment
        self.upstream_status = error.upstream_status
        self.body = error.body


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def as_client_error(exc: BaseException) -> BaseException:
    """What the caller receives for a client error: an upstream's refusal keeps its 4xx status."""
    return UpstreamRejected(exc) if isinstance(exc, UpstreamHTTPError) else exc


class CircuitOpen(UpstreamError):
    status = 503
    error_type = "overloaded_error"
    default_code = "circuit_open"


class StreamInterrupted(UpstreamError):
    """The upstream broke mid-stream; ``chunks_delivered`` chunks had already reached the caller."""

    default_code = "upstream_stream_interrupted"

    def __init__(self, message: str, *, deployment: str, chunks_delivered: int, **kw: Any) -> None:
        super().__init__(message, deployment=deployment, retryable=False, **kw)
        self.chunks_delivered = chunks_delivered


class NoEligibleDeployment(UpstreamError):
    status = 503
    default_code = "no_eligible_deployment"

    def __init__(self, message: str, **kw: Any) -> None:
        super().__init__(message, retryable=False, **kw)


class AllCandidatesFailed(UpstreamError):
    """Every candidate failed. Status, code and Retry-After are the most relevant failure's
    (429 when that failure is a rate limit);
    ``failures`` holds every one as ``(deployment, exception)`` and ``group`` as an ExceptionGroup."""

    def __init__(
        self, message: str, failures: list[tuple[str, BaseException]], primary: BaseException
    ) -> None:
        retry_after = primary.retry_after if isinstance(primary, InterlockError) else None
        code = primary.code if isinstance(primary, InterlockError) else None
        param = primary.param if isinstance(primary, InterlockError) else None
        super().__init__(message, retryable=True, code=code, retry_after=retry_after, param=param)
        self.failures = failures
        self.primary = primary
        if outcome_of(primary) is Outcome.RATE_LIMITED:
            # every way out is rate limited: tell the client to back off, with Retry-After
            self.status, self.error_type = RateLimited.status, RateLimited.error_type  # type: ignore[misc]
        elif isinstance(primary, InterlockError):
            self.status, self.error_type = primary.status, primary.error_type  # type: ignore[misc]

    @property
    def group(self) -> ExceptionGroup[Exception]:
        excs = [e for _, e in self.failures if isinstance(e, Exception)]
        return ExceptionGroup("every candidate deployment failed", excs)


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
