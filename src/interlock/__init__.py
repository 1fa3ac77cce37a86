"""interlock: a model routing layer for hybrid open-weight and frontier model portfolios.

In-process routing, as the gateway routes (no model is called)::

    from interlock import Router

    router = Router.load("gateway.yaml")          # or Router.load() for the embedded default
    decision = router.route("Summarise this claim for the adjuster: ...")
    decision.chosen.model, decision.reason, decision.to_dict()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from interlock.routing.router import Router

__all__ = ["Router", "__version__"]


def __getattr__(name: str) -> Any:
    # Imported on first use: `import interlock` stays cheap for the CLI and the version string.
    if name == "Router":
        from interlock.routing.router import Router

        return Router
    raise AttributeError(f"module 'interlock' has no attribute {name!r}")
