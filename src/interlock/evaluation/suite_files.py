"""Reading suites from disk: JSONL items with an optional header, every error with file and line.

A suite is a JSONL file whose optional first line is ``{"suite": {...}}`` (name, version,
description, defaults), or a YAML file holding the same header plus ``items: <file>.jsonl``.
Errors read ``sample.jsonl:12: items.expected: field required``; all of a file's problems are
reported together.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError

from interlock.evaluation.scorers import scorer_type
from interlock.evaluation.suite import ItemSpec, Suite, SuiteDefaults, SuiteHeader, SuiteItem

_MAX_PROBLEMS = 50


@dataclass(frozen=True, slots=True)
class SuiteProblem:
    source: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class SuiteError(Exception):
    """A suite failed validation; ``problems`` lists each one with its file, line and field path."""

    def __init__(self, problems: list[SuiteProblem]) -> None:
        self.problems = problems
        shown = [str(p) for p in problems[:_MAX_PROBLEMS]]
        if len(problems) > _MAX_PROBLEMS:
            shown.append(f"... and {len(problems) - _MAX_PROBLEMS} more")
        super().__init__("\n".join(shown))


class SuiteFileSpec(SuiteHeader):
    """A YAML suite file: the header plus the path of its JSONL items, relative to the YAML file."""

    items: str = Field(min_length=1)


def format_path(prefix: str, loc: tuple[Any, ...]) -> str:
    out = prefix
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _message(error: Mapping[str, Any]) -> str:
    text = str(error["msg"]).removeprefix("Value error, ")
    return text[:1].lower() + text[1:]


def _from_validation(exc: ValidationError, source: str, line: int | None, prefix: str) -> list[SuiteProblem]:
    return [
        SuiteProblem(source, line, format_path(prefix, tuple(e["loc"])), _message(e))
        for e in exc.errors(include_url=False)
    ]


def _union_tag(tag: str) -> str:
    return re.sub(r"function-\w+\[[^\[\]]*?, ([^\[\]]*)\]", r"\1", tag)


def _expected_problems(exc: ValidationError, source: str, line: int) -> list[SuiteProblem]:
    """Errors for ``expected``, collapsing pydantic's one-error-per-union-branch into one message."""
    errors = exc.errors(include_url=False)
    if len(errors) > 1 and all(e["loc"] and isinstance(e["loc"][0], str) for e in errors):
        specific = [e for e in errors if not str(e["type"]).endswith("_type")]
        if not specific:
            kinds = " or ".join(dict.fromkeys(_union_tag(str(e["loc"][0])) for e in errors))
            return [SuiteProblem(source, line, "items.expected", f"must be {kinds}")]
        errors = [{**e, "loc": tuple(e["loc"][1:])} for e in specific]
    return [
        SuiteProblem(source, line, format_path("items.expected", tuple(e["loc"])), _message(e))
        for e in errors
    ]


def resolve_item(
    spec: ItemSpec, defaults: SuiteDefaults, source: str, line: int
) -> SuiteItem | list[SuiteProblem]:
    """Apply defaults and validate scorer options and ``expected`` against the chosen scorer."""
    problems: list[SuiteProblem] = []
    category = spec.category or defaults.category
    if category is None:
        problems.append(SuiteProblem(source, line, "items.category", "field required (no suite default)"))
    name = spec.scorer or defaults.scorer
    if name is None:
        return [*problems, SuiteProblem(source, line, "items.scorer", "field required (no suite default)")]
    try:
        kind = scorer_type(name)
    except KeyError as exc:
        return [*problems, SuiteProblem(source, line, "items.scorer", str(exc.args[0]))]
    inherited = defaults.scorer_options if name == defaults.scorer else {}
    try:
        options = kind.parse_options({**inherited, **(spec.scorer_options or {})})
    except ValidationError as exc:
        return [*problems, *_from_validation(exc, source, line, "items.scorer_options")]
    expected = spec.expected
    if expected is None:
        if kind.expected_required or getattr(options, "requires_expected", False):
            problems.append(SuiteProblem(source, line, "items.expected", f"field required (scorer {name!r})"))
    else:
        try:
            expected = kind.parse_expected(expected)
        except ValidationError as exc:
            problems.extend(_expected_problems(exc, source, line))
    if problems or category is None:
        return problems
    messages = [m.model_dump(exclude_none=True) for m in spec.messages]
    if defaults.system and not any(m["role"] == "system" for m in messages):
        messages.insert(0, {"role": "system", "content": defaults.system})
    return SuiteItem(
        id=spec.id,
        messages=tuple(messages),
        category=category,
        expected=expected,
        scorer=name,
        options=options,
        max_tokens=spec.max_tokens if spec.max_tokens is not None else defaults.max_tokens,
        temperature=spec.temperature if spec.temperature is not None else defaults.temperature,
        line=line,
        tags=tuple(spec.tags),
    )


def parse_suite(text: str, source: str, header: SuiteHeader | None = None) -> Suite:
    """Parse JSONL suite text; ``header`` comes from a YAML suite file when there is one."""
    problems: list[SuiteProblem] = []
    items: list[SuiteItem] = []
    first_line: dict[str, int] = {}
    seen_content = False
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            problems.append(
                SuiteProblem(source, number, "", f"not valid JSON: {exc.msg} (column {exc.colno})")
            )
            seen_content = True
            continue
        if isinstance(data, dict) and set(data) == {"suite"}:
            if seen_content or header is not None:
                where = (
                    "the YAML suite file already has one"
                    if header is not None
                    else "it must be the first line"
                )
                problems.append(SuiteProblem(source, number, "suite", f"unexpected suite header: {where}"))
            else:
                try:
                    header = SuiteHeader.model_validate(data["suite"])
                except ValidationError as exc:
                    problems.extend(_from_validation(exc, source, number, "suite"))
            seen_content = True
            continue
        seen_content = True
        if not isinstance(data, dict):
            problems.append(SuiteProblem(source, number, "items", "each line must be a JSON object"))
            continue
        try:
            spec = ItemSpec.model_validate(data)
        except ValidationError as exc:
            problems.extend(_from_validation(exc, source, number, "items"))
            continue
        if spec.id in first_line:
            problems.append(
                SuiteProblem(
                    source,
                    number,
                    "items.id",
                    f"duplicate id {spec.id!r} (first on line {first_line[spec.id]})",
                )
            )
            continue
        first_line[spec.id] = number
        resolved = resolve_item(spec, header.defaults if header else SuiteDefaults(), source, number)
        if isinstance(resolved, list):
            problems.extend(resolved)
        else:
            items.append(resolved)
    if not items and not problems:
        problems.append(SuiteProblem(source, None, "", "the suite has no items"))
    if problems:
        raise SuiteError(problems)
    name = header.name if header else Path(source).stem
    return Suite(
        name=name,
        version=header.version if header else "1",
        description=header.description if header else "",
        source=source,
        items=tuple(items),
    )


def _yaml_line(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def _load_yaml_suite(path: Path) -> Suite:
    source = str(path)
    text = _read(path)
    try:
        node, data = yaml.compose(text), yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SuiteError([SuiteProblem(source, None, "", f"not valid YAML: {exc}")]) from None
    try:
        spec = SuiteFileSpec.model_validate(data if data is not None else {})
    except ValidationError as exc:
        raise SuiteError(
            [
                SuiteProblem(
                    source,
                    _yaml_line(node, tuple(e["loc"])),
                    format_path("suite", tuple(e["loc"])),
                    _message(e),
                )
                for e in exc.errors(include_url=False)
            ]
        ) from None
    items_path = path.parent / spec.items
    header = SuiteHeader.model_validate(spec.model_dump(exclude={"items"}))
    return parse_suite(_read(items_path), str(items_path), header)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SuiteError([SuiteProblem(str(path), None, "", f"cannot read: {exc.strerror}")]) from None


def load_suite(path: str | Path) -> Suite:
    """Load and validate a ``.jsonl`` suite or a ``.yaml``/``.yml`` suite file pointing at one."""
    p = Path(path)
    if p.suffix.lower() in (".yaml", ".yml"):
        return _load_yaml_suite(p)
    return parse_suite(_read(p), str(p))
