"""The inbound OpenAI embeddings request: validated strictly, so bad input is a clear 400 and no upstream call."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from interlock.errors import InvalidRequest
from interlock.wire.openai_chat import invalid_from_validation

TokenId = Annotated[int, Field(ge=0, le=2**31 - 1)]


class EmbeddingsRequest(BaseModel):
    """What OpenAI documents for ``/v1/embeddings``: text, a list of texts, or token ids."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1)
    input: str | list[str] | list[TokenId] | list[list[TokenId]]
    encoding_format: Literal["float", "base64"] | None = None
    dimensions: int | None = Field(None, ge=1, le=65_536)
    user: str | None = None

    def upstream_body(self) -> dict[str, Any]:
        """The body providers receive (they set ``model`` themselves)."""
        return self.model_dump(exclude_unset=True, exclude_none=True, exclude={"model"})


def parse_embeddings_request(data: Any) -> tuple[str, dict[str, Any]]:
    """The requested model and the body to send upstream; 400 naming the field when ``data`` is not valid."""
    if not isinstance(data, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    try:
        req = EmbeddingsRequest.model_validate(data)
    except ValidationError as exc:
        raise invalid_from_validation(exc) from None
    if isinstance(req.input, list) and not req.input:
        raise InvalidRequest("'input' must be a string or a non-empty list.", param="input")
    return req.model, req.upstream_body()
