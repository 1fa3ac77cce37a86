"""The running state built from one config: catalog, one provider per deployment, metrics."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from functools import partial

from interlock.accounting.metering import Metering
from interlock.accounting.pricebook import PriceBook
from interlock.catalog import Catalog
from interlock.compliance.audit import audit_location, open_audit_log
from interlock.compliance.gate import ComplianceGate, default_policy
from interlock.config.load import LoadedConfig
from interlock.config.reload import unchanged_deployments
from interlock.gateway.preflight import Preflight, start_up_lines
from interlock.observability.logging import RequestLineSink, offload_request_lines, withdraw_request_lines
from interlock.observability.metrics import GatewayMetrics
from interlock.observability.tracing import RequestTracer, TraceSink, carry_trace_sink
from interlock.providers.base import Provider
from interlock.providers.registry import build_provider
from interlock.providers.types import default_concurrency
from interlock.resilience import DeploymentRegistry
from interlock.resilience.timeouts import with_transport_timeouts
from interlock.routing.classifier.shipped import ShippedClassifier
from interlock.routing.features import Classifier
from interlock.routing.router import Router
from interlock.storage.writer_process import WriterProcess, open_ledger
from interlock.versions.migrations import ensure_versions_schema
from interlock.versions.resolution import Versions
from interlock.versions.shadow import ShadowRunner
from interlock.versions.store import SqlShadowStore

log = logging.getLogger("interlock.runtime")


class Runtime:
    metrics: GatewayMetrics
    traces: TraceSink | None
    classifier: Classifier

    def __init__(
        self,
        loaded: LoadedConfig,
        metrics: GatewayMetrics | None = None,
        classifier: Classifier | None = None,
        previous: Runtime | None = None,
    ) -> None:
        """``previous`` is the runtime of the config this one replaces: deployments configured
        identically are taken over with their providers (no reconnect, no weight reload), health and
        breaker state; so are the classifier and the metrics registry."""
        self.loaded = loaded
        self.config = loaded.config
        self.config_hash = loaded.hash
        self.catalog = Catalog(loaded.config)
        self.metrics = metrics or (previous.metrics if previous else GatewayMetrics())
        kept = unchanged_deployments(previous.loaded, loaded) if previous else set()
        # Every call goes through the resilience wrappers: timeouts, health, breaker, retries, fallback.
        self.resilience = DeploymentRegistry(loaded.config.resilience)
        self.providers: dict[str, Provider] = {}
        for d in loaded.config.deployments:
            # the deployment's own limits over the gateway-wide ones, field by field
            timeouts = loaded.config.resilience.timeouts.overridden_by(d.timeouts)
            if previous is not None and d.name in kept:
                self.providers[d.name] = previous.providers[d.name]
                self.resilience.adopt(previous.resilience, d.name, timeouts=timeouts)
            else:
                self.providers[d.name] = build_provider(with_transport_timeouts(d, timeouts))
                self.resilience.add(d.name, self.providers[d.name], timeouts=timeouts,
                                    concurrency=default_concurrency(d))
        self.metrics.watch("resilience", self.resilience.metric_samples)
        # None unless traces are configured: then recording a request skips tracing at one check
        self.traces = carry_trace_sink(loaded.config.observability, previous.traces if previous else None)
        self.tracer = RequestTracer(self.traces, loaded.config) if self.traces is not None else None
        self.in_flight = 0
        self.classifier = classifier or (previous.classifier if previous else ShippedClassifier())
        self.prices = PriceBook(loaded.config, source=loaded.source)
        self.router = Router.from_config(
            loaded, self.classifier, lambda d, prompt, output: self.prices.max_cost(d.name, prompt, output))
        self.versions = Versions(loaded.config)
        self.shadows: ShadowRunner | None = None  # opened at start when an alias mirrors traffic
        self._metering: Metering | None = None
        self.writes: WriterProcess | None = None  # the ledger and audit writer process, when server.writes is "process"
        self._lines: RequestLineSink | None = None
        self._compliance: ComplianceGate | None = None
        self.loaded_deployments: set[str] = set()  # embedded models whose weights are in memory
        self.preflight = Preflight(self.config, lambda: self.loaded_deployments)
        self.ready = False

    @property
    def compliance(self) -> ComplianceGate:
        """Scanning, policy, redaction and the audit log; opened at start."""
        if self._compliance is None:
            raise RuntimeError("the runtime has not been started")
        return self._compliance

    @property
    def metering(self) -> Metering:
        """Keys, budgets and the ledger; opened at start (it touches the database)."""
        if self._metering is None:
            raise RuntimeError("the runtime has not been started")
        return self._metering

    async def start(self, say: Callable[[str], None] = lambda _m: None) -> None:
        """Warm the classifier and providers that load weights (the embedded model), reporting through ``say``."""
        audit = audit_location(self.config)
        ledger_url = Metering.database_url_for(self.config)
        if self.config.server.writes == "process":
            opener = partial(open_ledger, ledger_url) if self.config.accounting.ledger else None
            self.writes = WriterProcess(opener, partial(open_audit_log, audit))
            self._lines = self.writes.lines.add
            offload_request_lines(self._lines)  # request log lines are formatted and written by the child too
        self._metering = Metering(self.config, self.prices, ledger=self.writes.ledger if self.writes else None)
        await self._metering.start(say)
        if any(a.shadow for a in self.config.aliases) and self._metering.db is not None:
            ensure_versions_schema(self._metering.db)
            self.shadows = ShadowRunner(SqlShadowStore(self._metering.db))
            self.metrics.watch("shadow", self.shadows.metric_samples)
        self._compliance = ComplianceGate(self.config.compliance or default_policy(), self.config.deployments, audit,
                                          always_scan=any(a.shadow for a in self.config.aliases),
                                          append=self.writes.audit.append_many if self.writes else None)
        if self.prices.unpriced:
            say(f"unpriced deployments (costs reported as unknown): {', '.join(self.prices.unpriced)}")
        where = "" if self.prices.baseline_model in self.catalog.models else " list prices (no frontier model is configured)"
        say(f"savings are measured against {self.prices.baseline_model}{where}")
        if isinstance(self.classifier, ShippedClassifier) and self.router.classifier is self.classifier:
            # a calibrated policy brings its own task classifier: the shipped one is then never asked
            say("loading the request classifier ...")
            await asyncio.get_running_loop().run_in_executor(None, self.classifier.load)
        for name, provider in self.providers.items():
            start = getattr(provider, "start", None)
            if start is not None:
                say(f"loading {name} ...")
                await start()
                self.loaded_deployments.add(name)
                digest = getattr(provider, "digest", None)
                say(f"loaded {name}" + (f" (sha256 {digest[:16]}...)" if digest else ""))
        for line in start_up_lines(await self.preflight.report()):
            say(line)
        self.ready = True

    async def aclose(self) -> None:
        if self.traces is not None:
            traces, self.traces = self.traces, None
            await asyncio.to_thread(traces.release)  # a last export may block on the collector
        if self.shadows is not None:
            await self.shadows.aclose(timeout_s=5)
        if self._compliance is not None:
            await self._compliance.aclose()
        if self._metering is not None:
            try:
                await self._metering.aclose()  # flushes the ledger: nothing is lost on shutdown
            except Exception:
                log.exception("closing the ledger failed")
        if self.writes is not None:
            if self._lines is not None:
                withdraw_request_lines(self._lines)
            await asyncio.to_thread(self.writes.close)  # after the ledger and audit flushes above
        try:
            await self.resilience.aclose()  # closes every provider it wraps
        except Exception:
            log.exception("closing providers failed")
