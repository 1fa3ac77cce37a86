"""Checking a request against what a deployment can do, so unsupported parameters fail clearly (400)."""

from __future__ import annotations

from interlock.config.deployments import DeploymentBase
from interlock.errors import UnsupportedParameter
from interlock.wire.openai_chat import ChatCompletionRequest


def unmet_needs(req: ChatCompletionRequest, deployment: DeploymentBase) -> list[tuple[str, str]]:
    """``(param, what is missing)`` for every need of the request this deployment cannot meet."""
    caps = deployment.capabilities
    out: list[tuple[str, str]] = []
    if req.needs_tools() and not caps.tools:
        out.append(("tools", "tool calling"))
    if req.needs_json() and not caps.json_output:
        out.append(("response_format", "JSON output"))
    if req.needs_images() and not caps.images:
        out.append(("messages", "image input"))
    if req.n and req.n > 1 and not caps.multiple_choices:
        out.append(("n", "several choices (n > 1)"))
    if req.stream and not caps.streaming:
        out.append(("stream", "streaming"))
    return out


def check_supported(req: ChatCompletionRequest, deployment: DeploymentBase) -> None:
    unmet = unmet_needs(req, deployment)
    if unmet:
        param, what = unmet[0]
        raise UnsupportedParameter(
            f"The model {deployment.model!r} does not support {what}; "
            f"remove `{param}` or choose a model that supports it (GET /v1/models lists capabilities).",
            param=param,
        )
