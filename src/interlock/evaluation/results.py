"""Evaluation results: one record per (item, model), and their JSONL file format.

The file's first line is ``{"results": {...}}`` (suite, models, when); each further line is one
``ItemResult``. Reading validates strictly, so a report never silently works from a bad file.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class ItemResult(BaseModel):
    """What one model did on one item. ``score`` is None when the call or the scoring failed."""

    model_config = ConfigDict(extra="forbid")
    item_id: str
    model: str
    category: str
    messages: list[dict[str, str]] | None = Field(
        default=None, description="the prompt as sent; calibration trains the task classifier and routers on it"
    )
    model_version: str | None = None
    output: str | None = None
    score: float | None = Field(default=None, ge=0.0, le=1.0)
    score_detail: str = ""
    latency_ms: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    cached: bool = False
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.score is not None


class ResultsHeader(BaseModel):
    model_config = ConfigDict(extra="forbid")
    suite: str
    suite_version: str = "1"
    models: list[str]
    created_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))


class ResultsFileError(Exception):
    """A results file could not be read; the message names the file and line."""


class Results(BaseModel):
    model_config = ConfigDict(extra="forbid")
    header: ResultsHeader
    items: list[ItemResult]

    @property
    def models(self) -> list[str]:
        return list(self.header.models)

    def for_model(self, model: str) -> list[ItemResult]:
        return [r for r in self.items if r.model == model]

    def to_jsonl(self) -> str:
        lines = [json.dumps({"results": self.header.model_dump()}, ensure_ascii=False)]
        lines += [item.model_dump_json() for item in self.items]
        return "\n".join(lines) + "\n"

    def write_jsonl(self, path: str | Path) -> None:
        Path(path).write_text(self.to_jsonl(), encoding="utf-8")

    @classmethod
    def from_jsonl(cls, text: str, source: str = "<results>") -> Results:
        header: ResultsHeader | None = None
        items: list[ItemResult] = []
        for number, raw in enumerate(text.split("\n"), start=1):  # JSONL lines end at \n only: a U+2028 is data
            if not raw.strip():
                continue
            try:
                data = json.loads(raw)
                if header is None:
                    if not (isinstance(data, dict) and set(data) == {"results"}):
                        raise ResultsFileError(f"{source}:{number}: the first line must be a results header")
                    header = ResultsHeader.model_validate(data["results"])
                else:
                    items.append(ItemResult.model_validate(data))
            except ValueError as exc:  # JSON and pydantic errors alike
                first = exc.errors(include_url=False)[0] if isinstance(exc, ValidationError) else None
                detail = f"{'.'.join(map(str, first['loc']))}: {first['msg']}" if first else str(exc)
                raise ResultsFileError(f"{source}:{number}: {detail}") from None
        if header is None:
            raise ResultsFileError(f"{source}: empty results file")
        return cls(header=header, items=items)

    @classmethod
    def read_jsonl(cls, path: str | Path) -> Results:
        """Read a results file; ``.gz`` files are decompressed."""
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            raise ResultsFileError(f"{path}: cannot read: {exc.strerror}") from None
        try:
            text = (gzip.decompress(raw) if str(path).endswith(".gz") else raw).decode("utf-8")
        except (OSError, EOFError, UnicodeDecodeError) as exc:
            raise ResultsFileError(f"{path}: not a UTF-8 (or gzip-compressed) JSONL file: {exc}") from None
        return cls.from_jsonl(text, str(path))
