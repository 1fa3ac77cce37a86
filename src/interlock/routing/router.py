"""The router: turns a request into a routing decision, for a named route, ``auto``, or a concrete model."""

from __future__ import annotations

from interlock.catalog.catalog import Catalog, CatalogModel
from interlock.errors import InvalidRequest
from interlock.routing.decision import Decision, direct_decision
from interlock.routing.features import Classifier, Features, extract_features
from interlock.routing.policy import CostOf, DeploymentFilter, LatencyOf, decide
from interlock.routing.quality import QualityTable
from interlock.routing.settings import AUTO_ROUTE, RouteSettings, RoutingSettings
from interlock.wire.openai_chat import ChatCompletionRequest


class Router:
    def __init__(
        self,
        catalog: Catalog,
        settings: RoutingSettings,
        routes: list[RouteSettings],
        table: QualityTable,
        classifier: Classifier,
        cost_of: CostOf,
    ) -> None:
        self.cost_of = cost_of
        self.catalog = catalog
        self.settings = settings
        self.routes = {r.name: r for r in routes}
        self.routes[AUTO_ROUTE] = settings.auto.model_copy(update={"name": AUTO_ROUTE})
        self.table = table
        self.classifier = classifier

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

    def features(self, req: ChatCompletionRequest, route: RouteSettings) -> Features:
        return extract_features(req, self.classifier, route.expected_output_tokens)

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
        deployment_filter: DeploymentFilter | None = None,
        latency_of: LatencyOf | None = None,
        direct: CatalogModel | None = None,
        fallbacks: tuple[CatalogModel, ...] = (),
    ) -> Decision:
        """``direct`` is what a by-name request resolved to (version management), ``fallbacks`` its
        alias's declared fallbacks; routes ignore both and rank their own candidates."""
        route = self.route_for(req.model, header_route)
        if route is None:
            return direct_decision(direct or self.catalog.resolve(req.model), fallbacks)
        names = route.candidates or list(self.catalog.models)
        models = [self.catalog.models[n] for n in names]
        fraction = self.settings.error_cost_fractions[route.error_cost]
        return decide(route, self.features(req, route), models, self.table, fraction, self.cost_of,
                      deployment_filter, latency_of)
