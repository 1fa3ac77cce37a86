"""The one error tree of interlock.

Every error knows its HTTP status, its OpenAI error ``type``/``code`` and whether a
retry on another attempt could succeed. Provider failures are mapped onto this tree
at the provider boundary (from status codes and structured bodies, never message text).

    InterlockError
    ├── InvalidRequest            400 invalid_request_error
    │   ├── UnsupportedParameter  400 (a parameter the chosen model cannot honour)
    │   └── UpstreamRejected      4xx (an upstream refused the request itself: its status, its message)
    ├── AuthenticationFailed      401 authentication_error
    ├── PermissionDenied          403 permission_error
    │   └── NoCompliantModel      403 permission_error / no_compliant_model
    ├── ModelNotFound             404 invalid_request_error / model_not_found
    ├── ModelGone                 410 invalid_request_error / model_sunset
    ├── PayloadTooLarge           413 invalid_request_error / payload_too_large
    ├── RateLimited               429 rate_limit_error (carries Retry-After)
    │   └── BudgetExceeded        429 (a key's or team's spend budget; names it and its reset)
    ├── Overloaded                503 overloaded_error (carries Retry-After)
    └── UpstreamError             502 api_error (an upstream failed)
        ├── UpstreamHTTPError     502 (an upstream answered with an error status)
        ├── UpstreamConnectionError 502 (connect/reset/protocol failure)
        ├── UpstreamMalformed     502 (the upstream's answer could not be parsed)
        ├── UpstreamKeyMissing    502 (the deployment's API key variable is not set; not retried)
        ├── UpstreamTimeout       504 (connect, first token, stall or total timeout)
        ├── CircuitOpen           503 (the deployment's breaker is open; another may serve)
        ├── StreamInterrupted     502 (the upstream broke after chunks reached the caller; not retried)
        ├── NoEligibleDeployment  503 (the filter or the plan left no deployment to try)
        └── AllCandidatesFailed   (the most relevant failure's status) every candidate failed
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar


class InterlockError(Exception):
    status: ClassVar[int] = 500
    error_type: ClassVar[str] = "api_error"
    default_code: ClassVar[str | None] = None
    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code if code is not None else self.default_code
        self.retry_after = retry_after

    def to_openai(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.error_type,
                "param": self.param,
                "code": self.code,
            }
        }

    def to_anthropic(self) -> dict[str, Any]:
        return {"type": "error", "error": {"type": _ANTHROPIC_TYPES.get(self.status, "api_error"), "message": self.message}}

    def headers(self) -> dict[str, str]:
        if self.retry_after is None:
            return {}
        return {"retry-after": str(max(1, int(round(self.retry_after))))}


class InvalidRequest(InterlockError):
    status = 400
    error_type = "invalid_request_error"


class UnsupportedParameter(InvalidRequest):
    default_code = "unsupported_parameter"


class AuthenticationFailed(InterlockError):
    status = 401
    error_type = "authentication_error"
    default_code = "invalid_api_key"


class PermissionDenied(InterlockError):
    status = 403
    error_type = "permission_error"


class NoCompliantModel(PermissionDenied):
    """Compliance left no deployment this request may go to; it is refused, never sent elsewhere.

    The message names the data classes found and the rule(s) that excluded every deployment.
    """

    default_code = "no_compliant_model"

    def __init__(
        self, message: str, *, data_classes: tuple[str, ...] = (), rules: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        self.data_classes = data_classes
        self.rules = rules


class ModelNotFound(InterlockError):
    status = 404
    error_type = "invalid_request_error"
    default_code = "model_not_found"


class ModelGone(InterlockError):
    status = 410
    error_type = "invalid_request_error"
    default_code = "model_sunset"


class PayloadTooLarge(InterlockError):
    status = 413
    error_type = "invalid_request_error"
    default_code = "payload_too_large"


class RateLimited(InterlockError):
    status = 429
    error_type = "rate_limit_error"
    default_code = "rate_limit_exceeded"
    retryable = True


class BudgetExceeded(RateLimited):
    """The call's maximum cost would overrun a budget; ``retry_after`` counts down to its reset.

    Not retryable: another attempt within the same period would be refused the same way.
    """

    default_code = "budget_exceeded"
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        budget: str = "",
        resets_at: datetime | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, retry_after=retry_after)
        self.budget = budget
        self.resets_at = resets_at


class Overloaded(InterlockError):
    status = 503
    error_type = "overloaded_error"
    default_code = "overloaded"
    retryable = True


class UpstreamError(InterlockError):
    """An upstream deployment failed; ``deployment`` names which one."""

    status = 502
    error_type = "api_error"
    default_code = "upstream_error"

    def __init__(self, message: str, *, deployment: str = "", retryable: bool = True, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.deployment = deployment
        self.retryable = retryable


class UpstreamHTTPError(UpstreamError):
    """The upstream answered with an error status; keeps status and parsed body."""

    def __init__(
        self,
        message: str,
        *,
        upstream_status: int,
        body: Any = None,
        deployment: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            message,
            deployment=deployment,
            retryable=upstream_status in RETRYABLE_UPSTREAM_STATUSES,
            retry_after=retry_after,
        )
        self.upstream_status = upstream_status
        self.body = body

    @property
    def is_client_error(self) -> bool:
        """A 4xx (other than 408/409/429) means the request itself is wrong; passing it on is honest."""
        return 400 <= self.upstream_status < 500 and self.upstream_status not in RETRYABLE_UPSTREAM_STATUSES


class UpstreamConnectionError(UpstreamError):
    default_code = "upstream_connection_error"


class UpstreamMalformed(UpstreamError):
    default_code = "upstream_malformed_response"


class UpstreamKeyMissing(UpstreamError):
    """The environment variable holding a deployment's API key is not set (or empty).

    Not retryable and not the deployment's fault: no attempt can succeed until an operator sets the
    variable, and an open breaker would only hide the cause. Another deployment may still serve.
    """

    default_code = "upstream_key_missing"

    def __init__(self, deployment: str, variable: str) -> None:
        super().__init__(
            f"Deployment {deployment!r} needs its API key in the environment variable {variable}, "
            "which is not set; set it where the gateway runs.",
            deployment=deployment,
            retryable=False,
        )
        self.variable = variable


class UpstreamTimeout(UpstreamError):
    status = 504
    default_code = "upstream_timeout"


RETRYABLE_UPSTREAM_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})

_ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    503: "overloaded_error",
    529: "overloaded_error",
}


class UpstreamRejected(InvalidRequest):
    """An upstream answered 4xx about the request itself: the client's to fix, so it gets that 4xx
    (an SDK retries a 5xx, which would only send the same bad request again)."""

    def __init__(self, error: UpstreamHTTPError) -> None:
        body = error.body if isinstance(error.body, dict) else {}
        detail = body.get("error") if isinstance(body.get("error"), dict) else {}
        code = detail.get("code") if isinstance(detail.get("code"), str) else None
        param = detail.get("param") if isinstance(detail.get("param"), str) else None
        super().__init__(error.message, code=code or "upstream_rejected_request", param=param)
        self.status = error.upstream_status  # type: ignore[misc]
        self.deployment = error.deployment
        self.upstream_status = error.upstream_status
        self.body = error.body


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
        if isinstance(primary, RateLimited) or (
                isinstance(primary, UpstreamHTTPError) and primary.upstream_status == 429):
            # every way out is rate limited: tell the client to back off, with Retry-After
            self.status, self.error_type = RateLimited.status, RateLimited.error_type  # type: ignore[misc]
        elif isinstance(primary, InterlockError):
            self.status, self.error_type = primary.status, primary.error_type  # type: ignore[misc]

    @property
    def group(self) -> ExceptionGroup[Exception]:
        excs = [e for _, e in self.failures if isinstance(e, Exception)]
        return ExceptionGroup("every candidate deployment failed", excs)
