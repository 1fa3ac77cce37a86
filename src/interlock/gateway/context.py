"""``RequestContext``: everything one request accumulates on its way through the pipeline, typed.

The HTTP layer fills the first block (what arrived); each step of ``gateway/pipeline.py`` fills
its own field and later steps read it. Sinks (metrics, logs, traces, ledger, audit) read ``record``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from interlock.gateway.results import Hints, Served
from interlock.observability.record import RequestRecord
from interlock.routing.exclusions import NO_EXCLUSIONS, Exclusions
from interlock.types import JSON

if TYPE_CHECKING:
    from interlock.accounting.metering import Admission, Caller, ModelFilter
    from interlock.compliance.gate import Assessment
    from interlock.errors import InterlockError
    from interlock.providers.base import ChatRequest
    from interlock.resilience import FallbackChain
    from interlock.routing.decision import Decision
    from interlock.routing.settings import RouteSettings
    from interlock.versions.resolution import Target
    from interlock.versions.shadow import ShadowTicket
    from interlock.wire.openai_chat import ChatCompletionRequest

BodyReader = Callable[[], Awaitable[Any]]
ClientWatch = Callable[[], contextlib.AbstractAsyncContextManager[Any]]


def _no_watch() -> contextlib.AbstractAsyncContextManager[Any]:
    return contextlib.nullcontext()


@dataclass(slots=True)
class EmbeddingCall:
    model: str
    payload: JSON


@dataclass(slots=True)
class RequestContext:
    # what arrived (filled by the HTTP layer; no HTTP objects)
    record: RequestRecord
    presented_key: str | None
    read_body: BodyReader
    hints: Hints = Hints()
    watch_client: ClientWatch = _no_watch  # cancels the work when the client leaves
    # what the steps find out, in order
    caller: Caller | None = None
    chat: ChatCompletionRequest | None = None
    embedding: EmbeddingCall | None = None
    upstream: ChatRequest | None = None  # the body as upstreams receive it
    route: RouteSettings | None = None  # None: the request names a model or alias
    key_allows: ModelFilter | None = None
    assessment: Assessment | None = None
    target: Target | None = None
    exclusions: Exclusions = NO_EXCLUSIONS
    decision: Decision | None = None
    tiers: list[list[str]] = field(default_factory=list)
    chain: FallbackChain | None = None
    prompt_tokens: int = 0
    admission: Admission | None = None
    shadow: ShadowTicket | None = None
    served: Served | None = None
    # how it ended, when no exception says so (a stream's end)
    error: InterlockError | None = None
    status: int | None = None

    @property
    def request(self) -> ChatCompletionRequest:
        assert self.chat is not None, "the request has not been parsed yet"
        return self.chat

    @property
    def who(self) -> Caller:
        assert self.caller is not None, "the caller has not been identified yet"
        return self.caller
