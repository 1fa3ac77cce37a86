"""The most tokens a request can use, which is what budgets reserve and rate limits count up front.

Prompt: the messages plus every other field the upstream reads (tool and response_format schemas,
stop sequences, predictions ...), counted as JSON so a schema is never free. Output: the request's
limit, else what the deployment itself caps or sends (``max_output_tokens``, Anthropic's
``default_max_tokens``), else ``accounting.default_output_tokens``; never more than the context
window; times ``n`` choices.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from interlock.config.deployments import DeploymentBase
from interlock.routing.tokens import count_messages, count_text

# Fields that only steer sampling or the response; everything else is text the model reads.
_NOT_READ = frozenset({
    "messages", "model", "stream", "stream_options", "max_tokens", "max_completion_tokens", "n",
    "temperature", "top_p", "seed", "presence_penalty", "frequency_penalty", "logprobs", "top_logprobs",
    "parallel_tool_calls", "store", "service_tier", "user",
})


def prompt_tokens_of(body: Mapping[str, Any], message_tokens: int | None = None) -> int:
    """Prompt tokens of an OpenAI-shape chat body; ``message_tokens`` when the messages are counted already."""
    messages = body.get("messages") or []
    total = count_messages(messages) if message_tokens is None else message_tokens
    read = {k: v for k, v in body.items() if k not in _NOT_READ}
    if read:
        total += count_text(orjson.dumps(read, default=str).decode())
    return total


def input_tokens_of(inputs: Any) -> int:
    """Tokens of an embeddings ``input`` (a string, a list of strings, or token arrays)."""
    items = inputs if isinstance(inputs, list) else [inputs]
    total = 0
    for item in items:
        if isinstance(item, str):
            total += count_text(item)
        elif isinstance(item, list):
            total += len(item)  # already tokens
        else:
            total += count_text(orjson.dumps(item, default=str).decode())
    return total


@dataclass(frozen=True, slots=True)
class OutputCeiling:
    """How many output tokens a deployment may write for one choice when the request says nothing."""

    default_tokens: int
    cap_tokens: int | None
    context_window: int

    @classmethod
    def of(cls, deployment: DeploymentBase, gateway_default: int) -> OutputCeiling:
        sent_by_provider = getattr(deployment, "default_max_tokens", None)  # Anthropic always sends one
        default = deployment.max_output_tokens or sent_by_provider or gateway_default
        return cls(default, deployment.max_output_tokens, deployment.context_window)

    def tokens(self, requested: int | None, choices: int = 1) -> int:
        per_choice = requested or self.default_tokens
        if self.cap_tokens is not None:
            per_choice = min(per_choice, self.cap_tokens)
        # Not less the prompt: the reference tokenizer overcounts for large vocabularies, so the
        # room it leaves would be an underestimate; the window itself is a true bound.
        per_choice = min(per_choice, self.context_window)
        return max(1, per_choice) * max(1, choices)


def requested_output(body: Mapping[str, Any]) -> tuple[int | None, int]:
    """The request's own output limit per choice (None when unset) and its number of choices."""
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    choices = body.get("n") or 1
    return (int(limit) if limit else None), int(choices)
