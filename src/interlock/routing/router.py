"""The router: turns a request into a routing decision, for a named route, ``auto``, or a concrete model.

With a calibrated policy (``routing.policy``) every routed request is decided by it
(``routing/policy_route.py``); without one, by the shipped quality priors (``routing/policy.py``).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from interlock.catalog.catalog import Catalog, CatalogModel
from interlock.config.load import LoadedConfig
from interlock.errors import InterlockError, InvalidRequest
from interlock.routing.classifier.features import prompt_text
from interlock.routing.classifier.model import RequestClassifier
from interlock.routing.decision import Decision, direct_decision
from interlock.routing.features import Classifier, Features, extract_features, request_messages
from interlock.routing.exclusions import NO_EXCLUSIONS, Exclusions
from interlock.routing.policy import CostOf, decide
from interlock.routing.policy_file import LoadedPolicy
from interlock.routing.policy_route import PromptScorer, decide_by_policy
from interlock.routing.quality import QualityTable
from interlock.routing.settings import AUTO_ROUTE, RouteSettings, RoutingSettings
from interlock.wire.openai_chat import ChatCompletionRequest, parse_chat_request


class Router:
    def __init__(
        self,
        catalog: Catalog,
        settings: RoutingSettings,
        routes: list[RouteSettings],
        table: QualityTable,
        classifier: Classifier,
        cost_of: CostOf,
        policy: LoadedPolicy | None = None,
        scorers: Mapping[str, PromptScorer] | None = None,
        draw: Callable[[], float] | None = None,
    ) -> None:
        """``draw`` returns uniform numbers in [0, 1) for a policy's traffic mixes (seeded in tests)."""
        self.cost_of = cost_of
        self.catalog = catalog
        self.settings = settings
        self.routes = {r.name: r for r in routes}
        self.routes[AUTO_ROUTE] = settings.auto.model_copy(update={"name": AUTO_ROUTE})
        self.table = table
        self.classifier = classifier
        self.policy = policy
        self.scorers = dict(scorers or {})
        self.draw = draw or random.Random(settings.seed).random

    @classmethod
    def from_config(cls, loaded: LoadedConfig, classifier: Classifier | None = None,
                    cost_of: CostOf | None = None) -> Router:
        """The router a gateway runs for ``loaded``: its catalog, routes, priors, policy and artifacts."""
        from interlock.accounting.pricebook import PriceBook
        from interlock.routing.policy_artifacts import policy_artifacts
        from interlock.routing.quality import load_quality_table

        if cost_of is None:
            prices = PriceBook(loaded.config, source=loaded.source)
            cost_of = lambda d, prompt, output: prices.max_cost(d.name, prompt, output)  # noqa: E731
        artifacts = policy_artifacts(loaded.policy)
        return cls(Catalog(loaded.config), loaded.config.routing, loaded.config.routes,
                   load_quality_table(loaded.config.routing.quality_table),
                   artifacts.classifier or classifier or RequestClassifier.load(), cost_of,
                   policy=loaded.policy, scorers=artifacts.scorers)

    @classmethod
    def load(cls, config: str | Path | None = None) -> Router:
        """In-process routing for a config file (default: the embedded default), as the gateway routes."""
        from interlock.config.defaults import default_config
        from interlock.config.load import load_config

        return cls.from_config(load_config(config) if config is not None else default_config())

    def route(self, prompt: str | list[dict[str, Any]], *, route: str = AUTO_ROUTE,
              max_tokens: int | None = None, exclusions: Exclusions = NO_EXCLUSIONS) -> Decision:
        """The decision for a prompt (a string or OpenAI-style messages) on ``route``; no model is called."""
        messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
        body: dict[str, Any] = {"model": route, "messages": messages}
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        return self.decide(parse_chat_request(body), exclusions=exclusions)

    def route_for(self, model: str, header_route: str | None) -> RouteSettings | None:
        """The route a request asks for (by ``model`` or the ``x-interlock-route`` header), if any."""
        if header_route:
            route = self.routes.get(header_route)
            if route is None:
                raise InvalidRequest(
                    f"Unknown route {header_route!r} in x-interlock-route; routes: {', '.join(sorted(self.routes))}",
                    code="unknown_route",
                )
            return route
        return self.routes.get(model)

    def candidate_models(
        self, req: ChatCompletionRequest, header_route: str | None = None, direct: CatalogModel | None = None
    ) -> list[CatalogModel]:
        route = self.route_for(req.model, header_route)
        if route is None:
            return [direct or self.catalog.resolve(req.model)]
        return [self.catalog.models[n] for n in route.candidates or self.catalog.models]

    def decide(
        self,
        req: ChatCompletionRequest,
        header_route: str | None = None,
        exclusions: Exclusions = NO_EXCLUSIONS,
        direct: CatalogModel | None = None,
        fallbacks: tuple[CatalogModel, ...] = (),
    ) -> Decision:
        """``direct`` is what a by-name request resolved to (version management), ``fallbacks`` its
        alias's declared fallbacks; routes ignore both and rank their own candidates. When only
        ``exclusions.unhealthy`` deployments could serve, they are ranked anyway."""
        route = self.route_for(req.model, header_route)
        if route is None:
            return direct_decision(direct or self.catalog.resolve(req.model), fallbacks)
        names = route.candidates or list(self.catalog.models)
        models = [self.catalog.models[n] for n in names]
        messages = request_messages(req)
        features = extract_features(req, self.classifier, route.expected_output_tokens, messages)
        try:
            return self._decide(route, features, models, messages, exclusions)
        except InterlockError:
            if not exclusions.unhealthy:
                raise  # the request itself cannot be served
            return self._decide(route, features, models, messages, exclusions.ignoring_health())

    def _decide(self, route: RouteSettings, features: Features, models: list[CatalogModel],
                messages: list[dict[str, Any]], exclusions: Exclusions) -> Decision:
        if self.policy is not None:
            return decide_by_policy(route, features, models, self.policy, self.cost_of, draw=self.draw,
                                    scorers=self.scorers, text=lambda: prompt_text(messages).combined(),
                                    deployment_filter=exclusions.reason)
        fraction = self.settings.error_cost_fractions[route.error_cost]
        return decide(route, features, models, self.table, fraction, self.cost_of, exclusions.reason,
                      exclusions.latency)
