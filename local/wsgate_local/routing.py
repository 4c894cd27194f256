"""Route selection as API Gateway does it. Pure functions, no I/O.

``$request.body.action``, ``${request.body.service}/${request.body.action}`` and literals with
``\\$`` escapes are evaluated once against the message; the result is compared exactly with the
route keys, falling back to ``$default``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Collection
from typing import Any

_BRACED = re.compile(r"\$\{([^}]*)\}")
_BARE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_.\[\]-]*)")
_INDEX = re.compile(r"^([^\[]*)((?:\[\d+\])*)$")

NOT_JSON = object()


def _stringify(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + ", ".join(_stringify(v) for v in value) + "]"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return json.dumps(value)


def _lookup(document: Any, path: str) -> Any:
    """Follow a dotted JSONPath (``a.b[0].c``); anything missing gives None."""
    current = document
    for part in path.split("."):
        if part == "":
            continue
        m = _INDEX.match(part)
        if m is None:
            return None
        name, indexes = m.group(1), m.group(2)
        if name:
            if not isinstance(current, dict) or name not in current:
                return None
            current = current[name]
        for idx in re.findall(r"\d+", indexes):
            if not isinstance(current, list) or int(idx) >= len(current):
                return None
            current = current[int(idx)]
    return current


def _variable(name: str, body: Any) -> str:
    name = name.strip()
    if name == "request.body":
        return "" if body is NOT_JSON else _stringify(body)
    if name.startswith("request.body."):
        if body is NOT_JSON:
            return ""
        return _stringify(_lookup(body, name[len("request.body.") :]))
    return ""


def uses_body(expression: str) -> bool:
    """Whether the expression reads the message body (and so needs it to be JSON)."""
    return "request.body" in expression


@functools.lru_cache(maxsize=64)
def _compile(expression: str) -> tuple[tuple[bool, str], ...]:
    """Split an expression once into literal text and variable names: ``(is_variable, text)``."""
    parts: list[tuple[bool, str]] = []
    literal: list[str] = []
    i, n = 0, len(expression)
    while i < n:
        ch = expression[i]
        if ch == "\\" and i + 1 < n and expression[i + 1] == "$":
            literal.append("$")
            i += 2
            continue
        if ch == "$":
            m = _BRACED.match(expression, i) or _BARE.match(expression, i)
            if m:
                if literal:
                    parts.append((False, "".join(literal)))
                    literal = []
                parts.append((True, m.group(1)))
                i = m.end()
                continue
        literal.append(ch)
        i += 1
    if literal:
        parts.append((False, "".join(literal)))
    return tuple(parts)


def evaluate(expression: str, body: str) -> str | None:
    """Evaluate a route selection expression against a message body.

    Returns None when the expression reads the body and the body is not JSON: such messages go to
    ``$default``. A path that finds nothing contributes ``""``.
    """
    parsed: Any = NOT_JSON
    if uses_body(expression):
        try:
            parsed = json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than json allows
            return None
    return "".join(_variable(text, parsed) if var else text for var, text in _compile(expression))


def select_route(
    expression: str, body: str, route_keys: Collection[str], *, has_default: bool = True
) -> str | None:
    """The route key a message goes to, or None when nothing matches and there is no
    ``$default`` (the client then gets the Forbidden frame). Custom keys never start with ``$``,
    so a message selecting ``$connect`` or ``$disconnect`` falls through to ``$default``."""
    selected = evaluate(expression, body)
    if selected is not None and not selected.startswith("$") and selected in route_keys:
        return selected
    if selected == "$default" and has_default:
        return "$default"
    return "$default" if has_default else None
