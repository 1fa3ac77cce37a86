"""The inbound OpenAI chat-completions request: validated strictly so bad input gets a clear 400."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from interlock.errors import InvalidRequest
from interlock.wire.openai_messages import (
    ChatMessage,
    ContentPart,
    Prediction,
    ResponseFormat,
    Tool,
    ToolChoice,
    as_plain_json,
    field_path,
)

__all__ = [
    "ChatCompletionRequest", "ChatMessage", "ContentPart", "invalid_from_validation", "parse_chat_request",
]

# Numbers every upstream can take: JSON integers past 64 bits cannot even be serialized again.
Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
TokenLimit = Annotated[int, Field(ge=1, le=2**31 - 1)]


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    include_usage: bool = False
    include_obfuscation: bool | None = None


class ChatCompletionRequest(BaseModel):
    """Every parameter OpenAI documents for chat completions; unknown ones are rejected by name."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1)
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: TokenLimit | None = None
    max_completion_tokens: TokenLimit | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    n: int | None = Field(None, ge=1, le=128)
    stop: str | list[str] | None = None
    seed: Int64 | None = None
    presence_penalty: float | None = Field(None, ge=-2, le=2)
    frequency_penalty: float | None = Field(None, ge=-2, le=2)
    logit_bias: dict[str, Annotated[float, Field(ge=-100, le=100)]] | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = Field(None, ge=0, le=20)
    user: str | None = None
    metadata: dict[str, str] | None = None
    tools: Annotated[list[dict[str, Any]], as_plain_json(list[Tool])] | None = None
    tool_choice: Annotated[str | dict[str, Any], as_plain_json(ToolChoice)] | None = None
    parallel_tool_calls: bool | None = None
    response_format: Annotated[dict[str, Any], as_plain_json(ResponseFormat)] | None = None
    reasoning_effort: str | None = None
    service_tier: str | None = None
    store: bool | None = None
    modalities: list[Literal["text", "audio"]] | None = None
    prediction: Annotated[dict[str, Any], as_plain_json(Prediction)] | None = None
    verbosity: str | None = None
    safety_identifier: str | None = None
    prompt_cache_key: str | None = None

    @field_validator("stop")
    @classmethod
    def _at_most_four_stops(cls, v: str | list[str] | None) -> str | list[str] | None:
        if isinstance(v, list) and len(v) > 4:
            raise ValueError("at most 4 stop sequences")
        return v

    @property
    def output_limit(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens

    def needs_tools(self) -> bool:
        return bool(self.tools)

    def needs_json(self) -> bool:
        return bool(self.response_format and self.response_format.get("type") in ("json_object", "json_schema"))

    def needs_images(self) -> bool:
        return any(
            isinstance(m.content, list) and any(p.type == "image_url" for p in m.content) for m in self.messages
        )

    def upstream_body(self) -> dict[str, Any]:
        """The body providers receive: what the client set, minus routing-only fields."""
        body = self.model_dump(exclude_unset=True, exclude_none=True)
        body.pop("model", None)
        body.pop("stream", None)
        body.pop("stream_options", None)
        return body


def parse_chat_request(data: Any) -> ChatCompletionRequest:
    if not isinstance(data, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    try:
        return ChatCompletionRequest.model_validate(data)
    except ValidationError as exc:
        raise invalid_from_validation(exc) from None


def invalid_from_validation(exc: ValidationError) -> InvalidRequest:
    """The most specific (deepest) validation error, phrased the way OpenAI does, with ``param`` naming
    the field (a union reports one error per branch; the deepest is the one that says what is wrong)."""
    err = max(exc.errors(include_url=False), key=lambda e: len(e["loc"]))
    param = field_path(err["loc"]).removeprefix(".")
    if err["type"] == "extra_forbidden":
        msg = f"Unrecognized request argument supplied: {param}"
    elif err["type"] == "missing":
        msg = f"Missing required parameter: '{param}'."
    else:
        msg = f"Invalid value for '{param}': {err['msg'].removeprefix('Value error, ')}."
    more = len(exc.errors()) - 1
    if more:
        msg += f" ({more} more error{'s' if more > 1 else ''} in the request)"
    code = "invalid_value" if err["type"] != "missing" else "missing_required_parameter"
    return InvalidRequest(msg, param=param or None, code=code)
