"""Serving one chat request: meter the caller, check compliance, route, run a fallback chain, price, record.

Core logic only: no HTTP objects here. The API layer parses and renders; this module decides.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from interlock.errors import InterlockError, UnsupportedParameter, UpstreamMalformed
from interlock.gateway.capabilities import check_supported, unmet_needs
from interlock.gateway.compliance_gate import Assessment
from interlock.gateway.metering import Admission, Caller, ModelFilter
from interlock.gateway.results import ChatResult, ChatStream, Hints, Served
from interlock.gateway.runtime import Runtime
from interlock.gateway.versioning import Target
from interlock.observability.logging import log_request
from interlock.observability.record import RequestRecord
from interlock.providers.base import ChatRequest, EmbeddingProvider, Usage
from interlock.resilience import BreakerState, FallbackChain
from interlock.routing.decision import Decision, direct_decision
from interlock.routing.tokens import count_messages, count_text
from interlock.versions.results import completion_text
from interlock.versions.shadow import ShadowTicket
from interlock.wire.openai_chat import ChatCompletionRequest

JSON = dict[str, Any]


@dataclass(slots=True)
class _Plan:
    decision: Decision
    chain: FallbackChain
    request: ChatRequest
    admission: Admission
    prompt_tokens: int
    target: Target | None
    shadow: ShadowTicket | None


class Gateway:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def identify(self, presented: str | None) -> Caller:
        return await self.runtime.metering.identify(presented)

    def _filter(self, assessment: Assessment | None, health: bool, dropped: set[str] | None = None,
                key_allows: ModelFilter | None = None) -> Any:
        """Why routing must skip a deployment: compliance, the caller's key, a sunset version, or
        (``health``) an open breaker; deployments skipped for health alone are noted in ``dropped``."""
        versions, resilience = self.runtime.versions, self.runtime.resilience

        def reason(d: Any) -> str | None:
            why = (assessment.reason(d) if assessment else None) or versions.sunset_reason(d)
            if why is None and key_allows is not None and not key_allows(d.model):
                why = "not allowed for this API key"
            if why is None and health and resilience.breaker(d.name).state is BreakerState.OPEN:
                why = "unhealthy: circuit open"
                if dropped is not None:
                    dropped.add(d.name)
            return why

        return reason

    def _latency(self, d: Any) -> float:
        """Expected latency for ranking ties: the deployment's recent EWMA (0 when it has no history yet)."""
        return self.runtime.resilience.health(d.name).latency_ewma.value or 0.0

    def plan(
        self, req: ChatCompletionRequest, hints: Hints = Hints(), assessment: Assessment | None = None,
        target: Target | None = None, key_allows: ModelFilter | None = None,
    ) -> tuple[Decision, list[list[str]]]:
        """Route the request among the deployments compliance allows: the decision, and tiers of
        deployment names (replicas of one model) in the order to try them."""
        router = self.runtime.router
        direct = target.as_model() if target is not None else None
        if assessment is not None and assessment.decision is not None:
            models = router.candidate_models(req, hints.route, direct) + list(target.fallbacks if target else ())
            if not any(assessment.permits(d.name) for m in models for d in m.deployments):
                raise assessment.decision.refusal()  # nothing this request may use could serve it
        permits = assessment.permits if assessment is not None else (lambda _name: True)
        fallbacks = target.fallbacks if target is not None else ()
        unhealthy: set[str] = set()
        try:
            decision = router.decide(req, hints.route, self._filter(assessment, True, unhealthy, key_allows),
                                     self._latency, direct=direct, fallbacks=fallbacks)
        except InterlockError:
            if not unhealthy:
                raise  # the request itself cannot be served: no second try
            # only unhealthy candidates could serve it: rank them anyway; the breakers decide what is tried
            decision = router.decide(req, hints.route, self._filter(assessment, False, None, key_allows),
                                     self._latency, direct=direct, fallbacks=fallbacks)
        tiers = [[d.name for d in v.deployments if not unmet_needs(req, d) and permits(d.name)
                  and (key_allows is None or key_allows(d.model))] for v in decision.ranked]
        tiers = [t for t in tiers if t]
        if not tiers:
            check_supported(req, decision.chosen.deployments[0])  # raises, naming the first unmet need
        return decision, tiers

    def _assess(self, creq: ChatRequest, rec: RequestRecord, caller: Caller) -> Assessment:
        resilience = self.runtime.resilience
        assessment = self.runtime.compliance.assess(
            creq.body, key_id=caller.key_id, team=caller.team,
            is_up=lambda name: resilience.breaker(name).state is not BreakerState.OPEN,
        )
        rec.compliance = assessment
        if assessment.report.data_classes:
            rec.extra["data_classes"] = sorted(c.value for c in assessment.report.data_classes)
        if assessment.refused:
            assert assessment.decision is not None
            raise assessment.decision.refusal()
        return assessment

    def begin(self, rec: RequestRecord) -> None:
        """Count the request in flight on this runtime until ``record()``: a config reload drains the
        runtime before closing it. Handlers call this before their first await."""
        if not rec.holds_runtime:
            rec.holds_runtime = True
            self.runtime.in_flight += 1

    async def _prepare(self, req: ChatCompletionRequest, rec: RequestRecord, caller: Caller, hints: Hints) -> _Plan:
        rt = self.runtime
        self.begin(rec)
        rec.requested_model, rec.stream, rec.config_hash = req.model, req.stream, rt.config_hash
        rec.key_id, rec.team = caller.key_id, caller.team
        key_allows = self._check_key(req, caller, hints)
        creq = ChatRequest(body=req.upstream_body(), request_id=rec.upstream_id)
        assessment = self._assess(creq, rec, caller)
        target = None
        if rt.router.route_for(req.model, hints.route) is None:
            # without auth every caller is "anonymous": no key to stick to, so each request draws
            sticky_key = caller.key_id if caller.key is not None else None
            target = rt.versions.resolve(req.model, hints.pin, key_id=sticky_key, user=req.user)
        decision, tiers = self.plan(req, hints, assessment, target, key_allows)
        route = rt.router.routes.get(decision.route)
        latency_target = route.latency_target_ms / 1000 if route and route.latency_target_ms else None
        chain = rt.resilience.chain(tiers, latency_target_s=latency_target, allow=assessment.permits,
                                    wrap=assessment.wrap)
        if decision.features is not None:
            rec.extra.update(route=decision.route, category=decision.features.category, decision=decision.reason,
                             rule=decision.rule)
            if decision.policy is not None:
                rec.extra.update(policy=decision.policy["version"], picked=decision.policy["picked"])
            prompt_tokens = decision.features.prompt_tokens
        else:
            prompt_tokens = count_messages(req.messages) if rt.metering.needs_prompt_tokens(caller) else 0
        if rt.config.server.log_prompts:
            rec.prompt_text = "\n".join(str(m.content) for m in req.messages)
        admission = await rt.metering.admit(caller, [n for t in tiers for n in t], creq.body, prompt_tokens)
        shadow = None
        try:
            if target is not None and not rec.compliance.decision:  # sensitive requests are never mirrored
                shadow = rt.versions.start_shadow(target, rt.shadows, rt.resilience.provider, creq, rt.config_hash,
                                                  lambda name, usage: rt.metering.price(name, usage).cost_usd)
        except BaseException:
            await rt.metering.settle(admission, None, None)  # no hold outlives a request that never started
            raise
        return _Plan(decision, chain, creq, admission, prompt_tokens, target, shadow)

    def _check_key(self, req: ChatCompletionRequest, caller: Caller, hints: Hints) -> ModelFilter | None:
        """403 unless the caller's key may use what the request names; for a route (by name or the
        ``x-interlock-route`` header), which of its candidate models the key may reach."""
        router = self.runtime.router
        route = router.route_for(req.model, hints.route)
        if route is None:
            self.runtime.metering.check_model(caller, req.model)
            return None
        candidates = [m.name for m in router.candidate_models(req, hints.route)]
        return self.runtime.metering.models_for_route(caller, route.name, candidates)

    def _served(self, plan: _Plan, rec: RequestRecord) -> Served:
        chain = plan.chain
        rec.attempts, rec.report = len(chain.attempts), chain.report
        deployment = self.runtime.catalog.deployments[chain.report.served_by or ""]
        rec.model, rec.deployment, rec.model_version = deployment.model, deployment.name, deployment.version
        extra = plan.target.headers_for(deployment) if plan.target is not None else {}
        return Served(deployment, plan.decision, chain.report, extra_headers=extra)

    def _failed(self, plan: _Plan, rec: RequestRecord, error: BaseException) -> None:
        chain = plan.chain
        rec.attempts, rec.report = len(chain.attempts), chain.report
        if chain.attempts:
            rec.deployment = chain.attempts[-1].deployment
            rec.model = self.runtime.catalog.deployments[rec.deployment].model
        if plan.shadow is not None:
            plan.shadow.primary_failed(rec.deployment or None, type(error).__name__)

    async def _settle(self, plan: _Plan, served: Served | None, rec: RequestRecord, text: str = "") -> None:
        """Price what was used, settle the budget hold (release it when nothing was served), report shadows."""
        if served is not None:
            served.cost = self.runtime.metering.price(served.deployment.name, rec.usage)
            rec.cost_usd, rec.baseline_cost_usd = served.cost.cost_usd, served.cost.baseline_cost_usd
            if plan.shadow is not None:
                plan.shadow.primary_answered(served.deployment.name, text, time.perf_counter() - rec.started,
                                             rec.usage, rec.cost_usd, model=served.deployment.model)
        await self.runtime.metering.settle(plan.admission, served.cost if served else None, rec.usage)

    async def chat(
        self, req: ChatCompletionRequest, rec: RequestRecord, caller: Caller, hints: Hints = Hints()
    ) -> ChatResult:
        plan = await self._prepare(req, rec, caller, hints)
        try:
            response = await plan.chain.complete(plan.request)
            try:
                served = self._served(plan, rec)
                response["model"] = served.deployment.model
                rec.usage = Usage.from_openai(response.get("usage"))
                text = completion_text(response)
            except Exception as exc:  # an answer the gateway cannot read is the upstream's failure
                raise UpstreamMalformed(f"The upstream's answer could not be read ({type(exc).__name__}).",
                                        deployment=plan.chain.report.served_by or "") from exc
        except BaseException as exc:
            self._failed(plan, rec, exc)
            await self._settle(plan, None, rec)
            raise
        await self._settle(plan, served, rec, text)
        if rec.prompt_text is not None:
            rec.completion_text = text
        return ChatResult(response, served)

    async def chat_stream(
        self, req: ChatCompletionRequest, rec: RequestRecord, caller: Caller, hints: Hints = Hints()
    ) -> ChatStream:
        """Start the stream and wait for its first chunk: until then the chain may fail over, and a
        failure is a plain HTTP error; after it, a break ends the stream with an error event."""
        plan = await self._prepare(req, rec, caller, hints)
        upstream = plan.chain.stream(plan.request).__aiter__()
        try:
            first = await anext(upstream, None)
        except BaseException as exc:
            self._failed(plan, rec, exc)
            await _close(upstream)
            await self._settle(plan, None, rec)
            raise
        rec.mark_first_token()
        served = self._served(plan, rec)
        want_usage = bool(req.stream_options and req.stream_options.include_usage)
        return ChatStream(served, self._relay(first, upstream, plan, served, rec, want_usage))

    async def _relay(
        self, first: JSON | None, upstream: AsyncIterator[JSON], plan: _Plan, served: Served,
        rec: RequestRecord, want_usage: bool,
    ) -> AsyncIterator[JSON]:
        parts: list[str] = []
        seen_usage = False
        try:
            chunk = first
            while chunk is not None:
                chunk["model"] = served.deployment.model
                usage = chunk.get("usage")
                if usage:
                    rec.usage, seen_usage = Usage.from_openai(usage), True
                for choice in chunk.get("choices") or ():
                    parts.append(str((choice.get("delta") or {}).get("content") or ""))
                if usage and not want_usage:
                    if chunk.get("choices"):
                        yield {k: v for k, v in chunk.items() if k != "usage"}
                else:
                    yield chunk
                chunk = await anext(upstream, None)
        finally:
            await _close(upstream)
            text = "".join(parts)
            if not seen_usage:  # cut off or no usage from upstream: count what was delivered, marked estimated
                prompt = plan.prompt_tokens or count_messages(plan.request.body["messages"])
                rec.usage = Usage(prompt_tokens=prompt, completion_tokens=count_text(text), estimated=True)
            if rec.prompt_text is not None:
                rec.completion_text = text
            await self._settle(plan, served, rec, text)

    async def embed(self, model_name: str, payload: JSON, rec: RequestRecord, caller: Caller) -> tuple[JSON, Served]:
        """Embeddings: the same key, compliance and accounting rules as chat, on an embeddings deployment.

        Redaction is no answer here (a vector of a redacted text is another vector), so only
        deployments compliance allows without redaction are candidates.
        """
        rt = self.runtime
        self.begin(rec)
        rec.requested_model, rec.config_hash = model_name, rt.config_hash
        rec.key_id, rec.team = caller.key_id, caller.team
        rt.metering.check_model(caller, model_name)
        assessment = self._assess(ChatRequest(body=payload, request_id=rec.upstream_id), rec, caller)
        model = rt.catalog.resolve(model_name)
        serving = [d for d in model.deployments if d.capabilities.embeddings and isinstance(
            rt.providers.get(d.name), EmbeddingProvider)]
        if not serving:
            raise UnsupportedParameter(f"The model {model_name!r} does not serve embeddings.", param="model")
        usable = [d for d in serving if assessment.permits(d.name) and not (
            assessment.decision and assessment.decision.verdict(d.name).redact_classes)]
        if not usable:
            assert assessment.decision is not None
            raise assessment.decision.refusal()
        # replicas balanced, with retries, breakers and fallback to a healthy twin, as for chat
        chain = rt.resilience.chain([[d.name for d in usable]], allow=assessment.permits)
        costliest = max(usable, key=lambda d: rt.prices.max_cost(d.name, 1, 0) or 0)
        admission = await rt.metering.admit_embedding(caller, costliest.name, payload)
        try:
            result = await chain.embed(payload, rec.upstream_id)
            deployment = rt.catalog.deployments[chain.report.served_by or usable[0].name]
            result["model"] = deployment.model
            rec.usage = Usage.from_openai(result.get("usage"))
            cost = rt.metering.price(deployment.name, rec.usage)
        except BaseException:
            tried = chain.attempts[-1].deployment if chain.attempts else usable[0].name
            rec.deployment, rec.model = tried, rt.catalog.deployments[tried].model
            await rt.metering.settle(admission, None, None)
            raise
        finally:
            rec.attempts, rec.report = len(chain.attempts), chain.report
        rec.model, rec.deployment, rec.model_version = deployment.model, deployment.name, deployment.version
        await rt.metering.settle(admission, cost, rec.usage)
        rec.cost_usd, rec.baseline_cost_usd = cost.cost_usd, cost.baseline_cost_usd
        return result, Served(deployment, direct_decision(model), chain.report, cost)

    def record(self, rec: RequestRecord, error: InterlockError | None = None, status: int | None = None) -> None:
        """Emit the finished request to metrics, the request log, the ledger and the audit log."""
        if error is not None:
            rec.finish(error.status, error.code or error.error_type)
        else:
            rec.finish(status or 200)
        if rec.holds_runtime:
            rec.holds_runtime = False
            self.runtime.in_flight -= 1
        self.runtime.metrics.observe(rec)
        log_request(rec, self.runtime.config.server.log_prompts)
        if self.runtime.tracer is not None:
            self.runtime.tracer.emit(rec)
        self.runtime.metering.record(rec)
        if rec.requested_model:
            # the deployment the request was sent to (served or failed); None when it was refused
            self.runtime.compliance.record(rec.compliance, request_id=rec.request_id, config_hash=rec.config_hash,
                                           deployment=rec.deployment or None, key_id=rec.key_id, team=rec.team)


async def _close(it: AsyncIterator[JSON]) -> None:
    aclose = getattr(it, "aclose", None)
    if aclose is not None:
        await aclose()
