"""Renders the small subset of Helm templating that deploy/helm/interlock uses, for tests without helm.

Supported: ``{{ .Values.a.b }}``, ``.Release.Name``/``.Release.Namespace``, ``.Chart.<field>``; the
pipes ``quote``, ``toYaml`` and ``nindent N``; ``{{ if X }}`` / ``{{ if not X }}`` ... ``{{ end }}``;
``{{-`` and ``-}}`` whitespace trimming as Go templates do. Anything else is an error, so the chart
cannot grow a construct this renderer would silently get wrong.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import yaml

_TAG = re.compile(r"\{\{(-\s)?\s*(.*?)\s*(\s-)?\}\}", re.DOTALL)
_MISSING = object()


class TemplateError(ValueError):
    pass


@dataclass(frozen=True)
class Scope:
    values: dict[str, Any]
    release: dict[str, Any]
    chart: dict[str, Any]

    def lookup(self, reference: str) -> Any:
        if not reference.startswith("."):
            raise TemplateError(f"unsupported expression {reference!r}")
        root, *path = reference[1:].split(".")
        current: Any = {"Values": self.values, "Release": self.release, "Chart": self.chart}.get(root, _MISSING)
        for key in path:
            current = current.get(key, _MISSING) if isinstance(current, dict) else _MISSING
        if current is _MISSING:
            raise TemplateError(f"{reference} is not set")
        return current


def go_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        raise TemplateError("a map or list printed without toYaml")
    return str(value)


def evaluate(expression: str, scope: Scope) -> str:
    first, *pipes = [part.strip() for part in expression.split("|")]
    words = first.split()
    if words[0] == "toYaml" and len(words) == 2:
        value: Any = yaml.safe_dump(scope.lookup(words[1]), sort_keys=True, default_flow_style=False).rstrip("\n")
    elif len(words) == 1:
        value = scope.lookup(words[0])
    else:
        raise TemplateError(f"unsupported expression {first!r}")
    for pipe in pipes:
        name, *args = pipe.split()
        if name == "quote" and not args:
            value = json.dumps(go_string(value))
        elif name == "nindent" and len(args) == 1:
            pad = " " * int(args[0])
            value = "\n" + "\n".join(pad + line if line else line for line in go_string(value).split("\n"))
        else:
            raise TemplateError(f"unsupported pipe {pipe!r}")
    return go_string(value)


def truthy(condition: str, scope: Scope) -> bool:
    words = condition.split()
    if len(words) == 2 and words[0] == "not":
        return not truthy(words[1], scope)
    if len(words) != 1:
        raise TemplateError(f"unsupported condition {condition!r}")
    value = scope.lookup(words[0])
    return bool(value) and value != 0


def render(template: str, scope: Scope) -> str:
    pieces: list[tuple[str, str]] = []  # ("text", s) or ("action", expression)
    position = 0
    for match in _TAG.finditer(template):
        text = template[position:match.start()]
        if match.group(1):
            text = text.rstrip()
        pieces.append(("text", text))
        pieces.append(("action", match.group(2)))
        position = match.end()
        if match.group(3):
            rest = template[position:]
            position += len(rest) - len(rest.lstrip())
    pieces.append(("text", template[position:]))

    output: list[str] = []
    emitting = [True]
    for kind, body in pieces:
        if kind == "text":
            if all(emitting):
                output.append(body)
        elif body.startswith("if "):
            emitting.append(truthy(body[3:], scope) if all(emitting) else False)
        elif body == "end":
            if len(emitting) == 1:
                raise TemplateError("{{ end }} without {{ if }}")
            emitting.pop()
        elif all(emitting):
            output.append(evaluate(body, scope))
    if len(emitting) != 1:
        raise TemplateError("{{ if }} without {{ end }}")
    return "".join(output)
