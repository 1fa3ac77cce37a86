"""What a request can need of a deployment: each capability once, with the request parameter that
needs it, its human name and how to tell a request needs it.

Routing screens candidates on the ``routed`` ones (``request_needs``, ``routing.policy``); the
gateway checks the chosen deployment against all of them (``unmet_needs``, ``check_supported``), so
an unsupported parameter fails clearly (400) instead of upstream. Each name is a field of the
deployment config's ``Capabilities``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from interlock.errors import UnsupportedParameter

if TYPE_CHECKING:
    from interlock.config.deployments import DeploymentBase
    from interlock.wire.openai_chat import ChatCompletionRequest


@dataclass(frozen=True, slots=True)
class Capability:
    name: str  # the field of ``config.deployments.Capabilities``
    param: str  # the request parameter that needs it (named in the 400)
    description: str  # "the model does not support <description>"
    needed_by: Callable[[ChatCompletionRequest], bool]
    routed: bool  # routing screens candidates on it; the rest are checked on the chosen deployment only


CAPABILITIES: tuple[Capability, ...] = (
    Capability("tools", "tools", "tool calling", lambda r: r.needs_tools(), routed=True),
    Capability("json_output", "response_format", "JSON output", lambda r: r.needs_json(), routed=True),
    Capability("images", "messages", "image input", lambda r: r.needs_images(), routed=True),
    Capability("multiple_choices", "n", "several choices (n > 1)", lambda r: bool(r.n and r.n > 1),
               routed=False),
    Capability("streaming", "stream", "streaming", lambda r: bool(r.stream), routed=False),
)
CAPABILITY: dict[str, Capability] = {c.name: c for c in CAPABILITIES}
_ROUTED = tuple(c for c in CAPABILITIES if c.routed)


def request_needs(req: ChatCompletionRequest) -> tuple[str, ...]:
    """The names of the routed capabilities ``req`` needs, in table order."""
    return tuple(c.name for c in _ROUTED if c.needed_by(req))


def needs_of(req: ChatCompletionRequest) -> tuple[Capability, ...]:
    """Every capability ``req`` needs (routed or not), in table order."""
    return tuple(c for c in CAPABILITIES if c.needed_by(req))


def unmet_needs(req: ChatCompletionRequest | tuple[Capability, ...],
                deployment: DeploymentBase) -> list[tuple[str, str]]:
    """``(param, what is missing)`` for every need of the request (or of ``needs_of`` it) this
    deployment cannot meet."""
    needs = req if isinstance(req, tuple) else needs_of(req)
    caps = deployment.capabilities
    return [(c.param, c.description) for c in needs if not getattr(caps, c.name)]


def check_supported(req: ChatCompletionRequest, deployment: DeploymentBase) -> None:
    """``UnsupportedParameter`` (400, naming the parameter) for the first need the deployment cannot meet."""
    unmet = unmet_needs(req, deployment)
    if unmet:
        param, what = unmet[0]
        raise UnsupportedParameter(
            f"The model {deployment.model!r} does not support {what}; "
            f"remove `{param}` or choose a model that supports it (GET /v1/models lists capabilities).",
            param=param,
        )
