"""The inbound Anthropic Messages request: validated strictly, then handed to the gateway in OpenAI shape."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from interlock.errors import InvalidRequest
from interlock.wire.anthropic_inbound import openai_request_from_anthropic
from interlock.wire.openai_chat import ChatCompletionRequest, invalid_from_validation


class Block(BaseModel):
    # extra="allow": blocks carry optional fields (cache_control, citations) this gateway passes over.
    model_config = ConfigDict(extra="allow")


class TextBlock(Block):
    type: Literal["text"]
    text: str


class ImageSource(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["base64", "url", "file"]
    media_type: str | None = None
    data: str | None = None
    url: str | None = None
    file_id: str | None = None

    @model_validator(mode="after")
    def _fields_of_its_type(self) -> "ImageSource":
        needed = {"base64": ("media_type", "data"), "url": ("url",), "file": ("file_id",)}[self.type]
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.type!r} image source needs {' and '.join(repr(m) for m in missing)}")
        return self


class ImageBlock(Block):
    type: Literal["image"]
    source: ImageSource


class ToolUseBlock(Block):
    type: Literal["tool_use"]
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    input: dict[str, Any]


class ToolResultBlock(Block):
    type: Literal["tool_result"]
    tool_use_id: str = Field(min_length=1)
    content: str | list[Annotated[TextBlock | ImageBlock, Field(discriminator="type")]] | None = None
    is_error: bool | None = None


class ThinkingBlock(Block):
    type: Literal["thinking"]
    thinking: str
    signature: str | None = None


class RedactedThinkingBlock(Block):
    type: Literal["redacted_thinking"]
    data: str


ContentBlock = Annotated[
    TextBlock | ImageBlock | ToolUseBlock | ToolResultBlock | ThinkingBlock | RedactedThinkingBlock,
    Field(discriminator="type"),
]


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["user", "assistant"]
    content: str | list[ContentBlock]


class Tool(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str = Field(min_length=1)
    type: str | None = None
    description: str | None = None
    input_schema: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _custom_tools_have_schema(self) -> "Tool":
        if self.type in (None, "custom") and self.input_schema is None:
            raise ValueError("a tool needs 'input_schema'")
        return self


class ToolChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["auto", "any", "tool", "none"]
    name: str | None = None
    disable_parallel_tool_use: bool | None = None

    @model_validator(mode="after")
    def _tool_is_named(self) -> "ToolChoice":
        if self.type == "tool" and not self.name:
            raise ValueError("tool_choice of type 'tool' needs 'name'")
        return self


class Metadata(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: str | None = None


class MessagesRequest(BaseModel):
    """The Messages API parameters this gateway serves; unknown ones are rejected by name."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1)
    messages: list[Message] = Field(min_length=1)
    max_tokens: int = Field(ge=1)
    system: str | list[TextBlock] | None = None
    metadata: Metadata | None = None
    stop_sequences: list[str] | None = None
    stream: bool = False
    temperature: float | None = Field(None, ge=0, le=1)
    top_p: float | None = Field(None, ge=0, le=1)
    top_k: int | None = Field(None, ge=0)
    tools: list[Tool] | None = None
    tool_choice: ToolChoice | None = None

    @model_validator(mode="after")
    def _blocks_fit_their_role(self) -> "MessagesRequest":
        for i, m in enumerate(self.messages):
            if isinstance(m.content, str):
                continue
            wrong = "tool_result" if m.role == "assistant" else "tool_use"
            if any(b.type == wrong for b in m.content):
                raise ValueError(f"messages[{i}]: {m.role} messages cannot hold {wrong!r} blocks")
        return self


def parse_messages_request(data: Any) -> MessagesRequest:
    if not isinstance(data, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    try:
        return MessagesRequest.model_validate(data)
    except ValidationError as exc:
        raise _invalid(exc) from None


def chat_request_from_messages(req: MessagesRequest) -> ChatCompletionRequest:
    """The OpenAI-shape request the gateway core serves, whatever kind of deployment answers it."""
    body = openai_request_from_anthropic(req.model_dump(exclude_none=True))
    try:
        return ChatCompletionRequest.model_validate(body)
    except ValidationError as exc:
        raise invalid_from_validation(exc) from None


def _invalid(exc: ValidationError) -> InvalidRequest:
    """The most specific (deepest) validation error, with ``param`` naming the field as clients wrote it."""
    errors = exc.errors(include_url=False)
    err = max(errors, key=lambda e: len(e["loc"]))
    param = _param(err["loc"])
    if err["type"] == "extra_forbidden":
        msg = f"{param}: Extra inputs are not permitted"
    elif err["type"] == "missing":
        msg = f"{param}: Field required"
    else:
        reason = err["msg"].removeprefix("Value error, ")
        msg = f"{param}: {reason}" if param else reason
    code = "missing_required_parameter" if err["type"] == "missing" else "invalid_value"
    return InvalidRequest(msg, param=param or None, code=code)


def _param(loc: tuple[int | str, ...]) -> str:
    """``messages[0].content[1].source`` from pydantic's loc, without its union markers and tags."""
    out = ""
    tag_follows = False
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif tag_follows:  # the discriminator value pydantic puts after a tagged-union item's index
            tag_follows = False
        elif "[" in part or part == "str":  # which branch of a union failed
            tag_follows = "tagged-union" in part
        else:
            out += f".{part}" if out else part
    return out
