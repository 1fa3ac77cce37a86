"""The parts of an OpenAI chat request that nest: messages, content parts, tools and tool calls.

Every shape is checked here, at the edge, so a malformed request gets a 400 naming its field and
never reaches a deployment (an upstream's refusal would be answered late, and a crash inside
a provider would be blamed on the deployment). Fields that SDKs echo back from a response but
that no upstream accepts in a request (``annotations``, ``reasoning_content``)
are accepted and not forwarded.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CacheControl(Strict):
    type: Literal["ephemeral"]
    ttl: str | None = None


class TextPart(Strict):
    type: Literal["text"]
    text: str
    cache_control: CacheControl | None = None  # Anthropic deployments honour it


class ImageURL(Strict):
    url: str = Field(min_length=1)
    detail: Literal["auto", "low", "high"] | None = None


class ImagePart(Strict):
    type: Literal["image_url"]
    image_url: ImageURL
    cache_control: CacheControl | None = None  # Anthropic deployments honour it


class InputAudio(Strict):
    data: str
    format: str = Field(min_length=1)


class AudioPart(Strict):
    type: Literal["input_audio"]
    input_audio: InputAudio


class FileRef(Strict):
    file_id: str | None = None
    file_data: str | None = None
    filename: str | None = None


class FilePart(Strict):
    type: Literal["file"]
    file: FileRef


class RefusalPart(Strict):
    type: Literal["refusal"]
    refusal: str


ContentPart = Annotated[
    TextPart | ImagePart | AudioPart | FilePart | RefusalPart, Field(discriminator="type")
]

# Which content parts each role may send (OpenAI refuses the others).
_PARTS_FOR_ROLE: dict[str, frozenset[str]] = {
    "system": frozenset({"text"}),
    "developer": frozenset({"text"}),
    "user": frozenset({"text", "image_url", "input_audio", "file"}),
    "assistant": frozenset({"text", "refusal"}),
    "tool": frozenset({"text"}),
    "function": frozenset({"text"}),
}


class FunctionCall(Strict):
    name: str = Field(min_length=1)
    arguments: str


class FunctionToolCall(Strict):
    id: str = Field(min_length=1)
    type: Literal["function"] = "function"
    function: FunctionCall


class CustomCall(Strict):
    name: str = Field(min_length=1)
    input: str


class CustomToolCall(Strict):
    id: str = Field(min_length=1)
    type: Literal["custom"]
    custom: CustomCall


ToolCall = Annotated[FunctionToolCall | CustomToolCall, Field(discriminator="type")]


class FunctionSpec(Strict):
    name: str = Field(min_length=1, max_length=256)
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class FunctionTool(Strict):
    type: Literal["function"]
    function: FunctionSpec


class CustomSpec(Strict):
    name: str = Field(min_length=1, max_length=256)
    description: str | None = None
    format: dict[str, Any] | None = None


class CustomTool(Strict):
    type: Literal["custom"]
    custom: CustomSpec


Tool = Annotated[FunctionTool | CustomTool, Field(discriminator="type")]


class NamedFunction(Strict):
    name: str = Field(min_length=1)


class NamedToolChoice(Strict):
    type: Literal["function"]
    function: NamedFunction


class AllowedTools(Strict):
    mode: Literal["auto", "required"]
    tools: list[dict[str, Any]] = Field(min_length=1)


class AllowedToolsChoice(Strict):
    type: Literal["allowed_tools"]
    allowed_tools: AllowedTools


ToolChoice = (
    Literal["none", "auto", "required"]
    | Annotated[NamedToolChoice | AllowedToolsChoice, Field(discriminator="type")]
)


class JsonSchemaFormat(Strict):
    name: str = Field(min_length=1)
    description: str | None = None
    schema_: dict[str, Any] | None = Field(None, alias="schema")
    strict: bool | None = None


class ResponseFormat(Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None

    @model_validator(mode="after")
    def _schema_when_asked(self) -> ResponseFormat:
        if self.type == "json_schema" and self.json_schema is None:
            raise ValueError("a response_format of type 'json_schema' needs 'json_schema'")
        return self


class Prediction(Strict):
    type: Literal["content"]
    content: str | list[TextPart]


# The ``type`` values the unions above switch on; pydantic puts the one it tried into error locations.
UNION_TAGS = frozenset(
    {"text", "image_url", "input_audio", "file", "refusal", "function", "custom", "allowed_tools"}
)


def field_path(loc: tuple[int | str, ...]) -> str:
    """``[0].function.name`` from a pydantic location, without union branch markers and tags."""
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
        elif "[" in part or part in ("str", "int", "float", "bool", "none"):
            continue  # which branch of a union failed
        elif i > 0 and isinstance(loc[i - 1], int) and part in UNION_TAGS and i + 1 < len(loc):
            continue  # the tag of a tagged union's item
        else:
            out += f".{part}"
    return out


def as_plain_json(shape: Any) -> BeforeValidator:
    """Check a value against ``shape`` (pydantic models) but keep it as plain JSON (dicts and lists).

    Tools, tool calls and formats are read by key all over the gateway (token counts, scans, cost
    estimates); their shape is enforced here once and they stay what the client sent, minus ``None``s.
    """
    adapter: TypeAdapter[Any] = TypeAdapter(shape)

    def check(value: Any) -> Any:
        if value is None:
            return None
        try:
            checked = adapter.validate_python(value)
        except ValidationError as exc:
            err = max(exc.errors(include_url=False), key=lambda e: len(e["loc"]))
            where = field_path(err["loc"]).removeprefix(".")
            raise ValueError(f"{where}: {err['msg']}" if where else err["msg"]) from None
        return adapter.dump_python(checked, exclude_none=True, by_alias=True)

    return BeforeValidator(check)


class AudioRef(Strict):
    id: str = Field(min_length=1)


class ChatMessage(Strict):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_calls: Annotated[list[dict[str, Any]], as_plain_json(list[ToolCall])] | None = None
    tool_call_id: str | None = None
    function_call: FunctionCall | None = None
    refusal: str | None = None
    audio: AudioRef | None = None
    # echoed from responses by SDKs; no upstream takes them back
    annotations: list[Any] | None = Field(None, exclude=True)
    reasoning_content: str | None = Field(None, exclude=True)


    @model_validator(mode="after")
    def _fits_its_role(self) -> ChatMessage:
        if isinstance(self.content, list):
            allowed = _PARTS_FOR_ROLE[self.role]
            for part in self.content:
                if part.type not in allowed:
                    raise ValueError(f"a {self.role} message cannot hold {part.type!r} content parts")
        if self.tool_calls is not None and self.role != "assistant":
            raise ValueError("only assistant messages carry 'tool_calls'")
        if self.role == "tool" and not self.tool_call_id:
            raise ValueError("a tool message needs 'tool_call_id'")
        if self.role == "function" and not self.name:
            raise ValueError("a function message needs 'name'")
        if self.role in ("system", "developer", "user", "tool") and self.content is None:
            raise ValueError(f"a {self.role} message needs 'content'")
        return self
