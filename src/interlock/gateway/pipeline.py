"""One request through the gateway: an ordered list of steps over a typed ``RequestContext``.

    hold ─ identify ─ parse ─┬ authorize ─ assess ─ resolve version ─ route ─ chain ─ admit ─ shadow ─ send ─ settle ─ record
                             └ (embeddings) authorize ─ assess ─ embedding deployments ─ chain ─ admit ─ send ─ settle ─ record

Each step is a small class owned by its concern's package (``accounting/steps.py``,
``compliance/step.py``, ``versions/step.py``, ``routing/step.py``, ``resilience/send.py``) and
reads or fills its fields of the context. The in-flight hold is an async context manager: it
counts the request on the runtime (a config reload drains before closing it), releases any budget
hold a failed request left, and records the request exactly once (metrics, log, trace, ledger,
audit) when it ends. A stream takes the hold over and ends it when the client has its last byte.
Handlers only parse HTTP, call ``chat`` or ``embed``, and render.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any

from interlock.accounting.steps import Admit, Authorize, Identify, Settle
from interlock.compliance.step import Assess
from interlock.errors import InterlockError, UnsupportedParameter, UpstreamMalformed
from interlock.gateway.context import EmbeddingCall, RequestContext
from interlock.gateway.results import ChatResult, Served
from interlock.gateway.runtime import Runtime
from interlock.gateway.streaming import ChatStream
from interlock.observability.logging import log_request
from interlock.observability.unexpected import internal_error
from interlock.providers.base import ChatRequest, EmbeddingProvider
from interlock.resilience.send import BuildChain
from interlock.routing.decision import direct_decision
from interlock.routing.step import Route
from interlock.types import Usage
from interlock.versions.results import completion_text
from interlock.versions.step import ResolveVersion, StartShadow
from interlock.wire.openai_chat import ChatCompletionRequest
from interlock.wire.openai_embeddings import parse_embeddings_request

Step = Callable[[RequestContext], Awaitable[None]]
ChatParser = Callable[[Any], ChatCompletionRequest]


class _Hold:
    """The request's hold on the runtime, from its first step until it is recorded."""

    __slots__ = ("ctx", "handed_over", "pipeline")

    def __init__(self, pipeline: Pipeline, ctx: RequestContext) -> None:
        self.pipeline, self.ctx = pipeline, ctx
        self.handed_over = False  # a stream ends the hold itself (``aclose``) when the client has it all

    async def aclose(self) -> None:
        await self.__aexit__(None, None, None)

    async def __aenter__(self) -> _Hold:
        runtime = self.pipeline.runtime
        runtime.in_flight += 1
        runtime.metrics.in_flight.inc()
        return self

    async def __aexit__(self, et: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> bool:
        ctx, pipeline = self.ctx, self.pipeline
        try:
            if exc is not None and ctx.admission is not None and not ctx.admission.settled:
                await pipeline.settle(ctx, None)  # no budget hold outlives a request that failed
        finally:
            pipeline.runtime.in_flight -= 1
            pipeline.runtime.metrics.in_flight.dec()
            error = ctx.error
            if isinstance(exc, InterlockError):
                error = exc
            elif isinstance(exc, Exception):
                error = internal_error(exc, ctx.record.endpoint)
            elif exc is not None:  # cancelled: the client left, or the server is shutting down
                ctx.status = 499
            pipeline.record(ctx, error)
            if error is not None and exc is not None and error is not exc:
                raise error from exc
        return False


class Pipeline:
    def __init__(self, runtime: Runtime) -> None:
        rt = self.runtime = runtime
        self.max_body_bytes = rt.config.server.max_body_bytes
        self.log_prompts = rt.config.server.log_prompts
        identify, authorize = Identify(rt.metering), Authorize(rt.metering, rt.router)
        assess, chain = Assess(rt.compliance, rt.resilience), BuildChain(rt.resilience, rt.router)
        admit = Admit(rt.metering)
        shadow = StartShadow(rt.versions, rt.shadows, rt.resilience.provider, rt.config_hash,
                             lambda name, usage: rt.metering.price(name, usage).cost_usd)
        self.identify: Step = identify
        self.chat_steps: Sequence[Step] = (authorize, assess, ResolveVersion(rt.versions),
                                           Route(rt.router, rt.versions, rt.resilience), chain, admit, shadow)
        self.embed_steps: Sequence[Step] = (authorize, assess, self._embedding_deployments, chain, admit)
        self.settle_usage = Settle(rt.metering)
        sinks: list[Callable[[Any], None]] = [rt.metrics.observe, self._log]
        if rt.tracer is not None:
            sinks.append(rt.tracer.emit)
        self.sinks = (*sinks, rt.metering.record, rt.compliance.record_request)

    # -- the two exchanges -------------------------------------------------------------------

    async def chat(self, ctx: RequestContext, parse: ChatParser) -> ChatResult | ChatStream:
        """Serve a chat request; a stream is returned once its first chunk is in (until then the
        chain may still fail over, and a failure is a plain HTTP error)."""
        hold = _Hold(self, ctx)
        await hold.__aenter__()
        try:
            await self.identify(ctx)
            self._parse_chat(ctx, parse(await ctx.read_body()))
            async with ctx.watch_client():
                for step in self.chat_steps:
                    await step(ctx)
                if ctx.request.stream:
                    first, upstream = await self._first_chunk(ctx)
                    stream = ChatStream(ctx, first, upstream, hold, self.settle)
                    hold.handed_over = True
                    return stream
                response = await self._complete(ctx)
        except BaseException as exc:
            if not hold.handed_over:
                await hold.__aexit__(type(exc), exc, exc.__traceback__)  # raises what the client is told
            raise
        await hold.aclose()
        return ChatResult(response, ctx.served)  # type: ignore[arg-type]

    async def embed(self, ctx: RequestContext) -> tuple[dict[str, Any], Served]:
        """Embeddings: the same key, compliance and accounting rules as chat, on an embeddings deployment."""
        async with _Hold(self, ctx):
            await self.identify(ctx)
            model, payload = parse_embeddings_request(await ctx.read_body())
            ctx.embedding = EmbeddingCall(model, payload)
            ctx.record.requested_model, ctx.record.config_hash = model, self.runtime.config_hash
            async with ctx.watch_client():
                for step in self.embed_steps:
                    await step(ctx)
                return await self._embed(ctx)
        raise AssertionError("unreachable")  # pragma: no cover

    # -- steps that belong to the exchange itself --------------------------------------------

    def _parse_chat(self, ctx: RequestContext, req: ChatCompletionRequest) -> None:
        rec = ctx.record
        ctx.chat = req
        rec.requested_model, rec.stream, rec.config_hash = req.model, req.stream, self.runtime.config_hash
        ctx.route = self.runtime.router.route_for(req.model, ctx.hints.route)
        ctx.upstream = ChatRequest(body=req.upstream_body(), request_id=rec.upstream_id)
        if self.log_prompts:
            rec.prompt_text = "\n".join(str(m.content) for m in req.messages)

    async def _embedding_deployments(self, ctx: RequestContext) -> None:
        """Embeddings skip routing: the deployments of the named model that serve embeddings and may
        receive the input unredacted (a vector of a redacted text is another vector)."""
        rt, assessment, call = self.runtime, ctx.assessment, ctx.embedding
        assert call is not None and assessment is not None
        model = rt.catalog.resolve(call.model)
        serving = [d for d in model.deployments if d.capabilities.embeddings
                   and isinstance(rt.providers.get(d.name), EmbeddingProvider)]
        if not serving:
            raise UnsupportedParameter(f"The model {call.model!r} does not serve embeddings.", param="model")
        usable = [d for d in serving if assessment.permits(d.name) and not (
            assessment.decision and assessment.decision.verdict(d.name).redact_classes)]
        if not usable:
            assert assessment.decision is not None
            raise assessment.decision.refusal()
        ctx.decision = direct_decision(model)
        # the costliest first: the budget hold covers whichever replica serves
        usable.sort(key=lambda d: -(rt.prices.max_cost(d.name, 1, 0) or 0))
        ctx.tiers = [[d.name for d in usable]]

    # -- sending ---------------------------------------------------------------------------------

    def _served(self, ctx: RequestContext, name: str | None) -> Served:
        chain, rec = ctx.chain, ctx.record
        assert chain is not None and ctx.decision is not None
        rec.attempts, rec.report = len(chain.attempts), chain.report
        deployment = self.runtime.catalog.deployments[name or ""]
        rec.model, rec.deployment, rec.model_version = deployment.model, deployment.name, deployment.version
        extra = ctx.target.headers_for(deployment) if ctx.target is not None else {}
        ctx.served = Served(deployment, ctx.decision, chain.report, extra_headers=extra)
        return ctx.served

    def _failed(self, ctx: RequestContext, error: BaseException) -> None:
        chain, rec = ctx.chain, ctx.record
        assert chain is not None
        rec.attempts, rec.report = len(chain.attempts), chain.report
        if chain.attempts:
            rec.deployment = chain.attempts[-1].deployment
            rec.model = self.runtime.catalog.deployments[rec.deployment].model
        if ctx.shadow is not None:
            ctx.shadow.primary_failed(rec.deployment or None, type(error).__name__)

    async def _complete(self, ctx: RequestContext) -> dict[str, Any]:
        chain = ctx.chain
        assert chain is not None and ctx.upstream is not None
        try:
            response = await chain.complete(ctx.upstream)
            try:
                served = self._served(ctx, chain.report.served_by)
                response["model"] = served.deployment.model
                usage = Usage.from_openai(response.get("usage"))
                text = completion_text(response)
            except Exception as exc:  # an answer the gateway cannot read is the upstream's failure
                raise UpstreamMalformed(f"The upstream's answer could not be read ({type(exc).__name__}).",
                                        deployment=chain.report.served_by or "") from exc
        except BaseException as exc:
            self._failed(ctx, exc)
            raise
        if ctx.record.prompt_text is not None:
            ctx.record.completion_text = text
        await self.settle(ctx, usage, text)
        return response

    async def _first_chunk(self, ctx: RequestContext) -> tuple[dict[str, Any], Any]:
        chain = ctx.chain
        assert chain is not None and ctx.upstream is not None
        upstream = chain.stream(ctx.upstream).__aiter__()
        try:
            first = await anext(upstream, None)
            if first is None:
                raise UpstreamMalformed("the upstream stream ended before its first chunk")
        except BaseException as exc:
            self._failed(ctx, exc)
            aclose = getattr(upstream, "aclose", None)
            if aclose is not None:
                await aclose()
            raise
        ctx.record.mark_first_token()
        self._served(ctx, chain.report.served_by)
        return first, upstream

    async def _embed(self, ctx: RequestContext) -> tuple[dict[str, Any], Served]:
        chain, call, rec = ctx.chain, ctx.embedding, ctx.record
        assert chain is not None and call is not None
        try:
            result = await chain.embed(call.payload, rec.upstream_id)
            served = self._served(ctx, chain.report.served_by or ctx.tiers[0][0])
            result["model"] = served.deployment.model
            usage = Usage.from_openai(result.get("usage"))
        except BaseException:
            tried = chain.attempts[-1].deployment if chain.attempts else ctx.tiers[0][0]
            rec.attempts, rec.report = len(chain.attempts), chain.report
            rec.deployment, rec.model = tried, self.runtime.catalog.deployments[tried].model
            raise
        await self.settle_usage(ctx, usage)
        return result, served

    # -- the end of a request ------------------------------------------------------------------

    async def settle(self, ctx: RequestContext, usage: Usage | None, text: str = "") -> None:
        """Price and settle (release when nothing was served); tell the shadow how the primary did."""
        await self.settle_usage(ctx, usage if ctx.served is not None else None)
        if ctx.shadow is not None and ctx.served is not None and usage is not None:
            rec = ctx.record
            ctx.shadow.primary_answered(ctx.served.deployment.name, text, time.perf_counter() - rec.started, rec.usage,
                                        rec.cost_usd, model=ctx.served.deployment.model)

    def _log(self, rec: Any) -> None:
        log_request(rec, self.log_prompts)

    def record(self, ctx: RequestContext, error: InterlockError | None) -> None:
        """Emit the finished request to metrics, the request log, traces, the ledger and the audit log."""
        rec = ctx.record
        if error is not None:
            rec.finish(error.status, error.code or error.error_type)
        else:
            rec.finish(ctx.status or 200)
        for sink in self.sinks:
            sink(rec)
