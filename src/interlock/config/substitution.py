"""``${VAR}`` and ``${VAR:-default}`` in config values, filled from the environment before validation.

Substitution works on the parsed YAML values, never on the text, so a variable's value cannot change
the file's structure and errors keep the line of the value they came from. ``$${`` writes a literal ``${``.

Secrets: API keys never live in the config (deployments name the variable in ``api_key_env``). The one
field that may carry a credential from the environment is ``headers`` (e.g. a gateway token for an
internal upstream); values substituted there are hashed as written (the placeholder, not the value),
so the config hash, which is logged with every request and stored in the ledger, never depends on them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Fields whose substituted values are kept out of the config hash.
SECRET_FIELDS = frozenset({"headers"})

_PLACEHOLDER = re.compile(r"\$\$\{|\$\{([^}]*)(\}?)")
_REFERENCE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$", re.DOTALL)

Location = tuple[str | int, ...]


@dataclass
class Substitution:
    """The values the gateway runs with, the values its hash is computed from, and what went wrong."""

    values: Any
    hashed: Any
    problems: list[tuple[Location, str]] = field(default_factory=list)
    secret_substituted: bool = False


def substitute_environment(data: Any, environ: Mapping[str, str]) -> Substitution:
    result = Substitution(values=None, hashed=None)
    result.values, result.hashed = _walk(data, (), environ, result)
    return result


def _walk(node: Any, loc: Location, environ: Mapping[str, str], result: Substitution) -> tuple[Any, Any]:
    if isinstance(node, dict):
        pairs = {key: _walk(value, (*loc, key), environ, result) for key, value in node.items()}
        return {k: v[0] for k, v in pairs.items()}, {k: v[1] for k, v in pairs.items()}
    if isinstance(node, list):
        items = [_walk(value, (*loc, i), environ, result) for i, value in enumerate(node)]
        return [v[0] for v in items], [v[1] for v in items]
    if isinstance(node, str) and "${" in node:
        value = _fill(node, loc, environ, result)
        if value != node and any(part in SECRET_FIELDS for part in loc):
            result.secret_substituted = True
            return value, node
        return value, value
    return node, node


def _fill(text: str, loc: Location, environ: Mapping[str, str], result: Substitution) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        inner, closed = match.group(1), match.group(2)
        reference = _REFERENCE.match(inner) if closed else None
        if reference is None:
            result.problems.append((loc, f"malformed placeholder ${{{inner}{closed} (write ${{NAME}} or "
                                         "${NAME:-default}; $${ for a literal ${)"))
            return match.group(0)
        name, default = reference.group(1), reference.group(2)
        value = environ.get(name)
        if default is not None and not value:  # as in the shell: `:-` also covers a set but empty variable
            return default
        if value is None:
            result.problems.append((loc, f"environment variable {name} is not set "
                                         f"(set it, or give a default: ${{{name}:-value}})"))
            return match.group(0)
        return value

    return _PLACEHOLDER.sub(replace, text)
