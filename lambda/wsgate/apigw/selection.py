"""Route selection: how API Gateway turns a message into a route key.

The rules (AWS developer guide, "Working with routes for WebSocket APIs" and "WebSocket selection
expressions"):

* ``$name`` and ``${name}`` are variables; ``\\$`` is a literal dollar sign; text around variables
  is kept; evaluation happens once (the result is not evaluated again);
* ``request.body`` is the message's JSON payload and what follows it is a JSONPath, so
  ``$request.body`` alone selects the whole payload and ``$request.body.a.b[0]`` a part of it;
* "the result will be stringified": a string as it is, a number or boolean as JSON text, and an
  array "presented as the string ``[item1, item2]``" (the guide's own example), so
  ``{"action": ["a", "b"]}`` selects ``[a, b]``. How an object is stringified is not documented;
  compact JSON is used (an inference; route keys are rarely objects);
* a path that finds nothing (or finds ``null``) resolves to ``""``;
* a message that is not JSON cannot be evaluated and goes to ``$default``;
* the result is compared exactly with the route keys; no match goes to ``$default`` when the API
  has one, otherwise the client gets the Forbidden frame. Custom keys never start with ``$``, so a
  message selecting ``$connect`` or ``$disconnect`` falls through to ``$default`` (an inference:
  the guide reserves the ``$`` prefix for the predefined routes).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Collection
from typing import Any

#: The Terraform module's default ``route_selection_expression``.
DEFAULT_EXPRESSION = "$request.body.action"
DEFAULT_ROUTE = "$default"

# Compiled on first use (``re`` keeps them), not at import: that is a third of a millisecond of
# every cold start, and most never evaluate an expression (parsed ones are cached below).
_BRACED = r"\$\{([^}]*)\}"
_BARE = r"\$([A-Za-z_][A-Za-z0-9_.\[\]-]*)"
_PART = r"^([^\[]*)((?:\[\d+\])*)$"
_BODY = "request.body"

#: Stands for "the body was not parsed" (or is not JSON) where ``None`` is a valid JSON value.
NOT_JSON: Any = object()


def stringify(value: Any) -> str:
    """A selected JSON value as the text API Gateway compares with route keys."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(stringify(item) for item in value) + "]"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return json.dumps(value)


def lookup(document: Any, path: str) -> Any:
    """The value at a dotted JSONPath (``a.b[0].c``) in ``document``; None when it finds nothing."""
    steps = _steps(path)
    return None if steps is None else _walk(document, steps)


#: One step of a path: a member name ("" for none) and the array indexes after it.
_Step = tuple[str, tuple[int, ...]]


@functools.lru_cache(maxsize=64)
def _steps(path: str) -> tuple[_Step, ...] | None:
    """``a.b[0].c`` split once into steps; None when a part is not ``name[i]...``."""
    steps: list[_Step] = []
    for part in path.split("."):
        if part == "":
            continue
        found = re.match(_PART, part)
        if found is None:
            return None
        steps.append((found.group(1), tuple(int(i) for i in re.findall(r"\d+", found.group(2)))))
    return tuple(steps)


def _walk(document: Any, steps: tuple[_Step, ...]) -> Any:
    current = document
    for name, indexes in steps:
        if name:
            if not isinstance(current, dict) or name not in current:
                return None
            current = current[name]
        for index in indexes:
            if not isinstance(current, list) or index >= len(current):
                return None
            current = current[index]
    return current


@functools.lru_cache(maxsize=64)
def parse(expression: str) -> tuple[tuple[bool, str], ...]:
    """Split an expression once into ``(is_variable, text)`` parts; ``\\$`` becomes ``$``."""
    parts: list[tuple[bool, str]] = []
    literal: list[str] = []
    i, n = 0, len(expression)
    while i < n:
        char = expression[i]
        if char == "\\" and i + 1 < n and expression[i + 1] == "$":
            literal.append("$")
            i += 2
            continue
        if char == "$":
            found = re.compile(_BRACED).match(expression, i)
            found = found or re.compile(_BARE).match(expression, i)
            if found:
                if literal:
                    parts.append((False, "".join(literal)))
                    literal = []
                parts.append((True, found.group(1).strip()))
                i = found.end()
                continue
        literal.append(char)
        i += 1
    if literal:
        parts.append((False, "".join(literal)))
    return tuple(parts)


def uses_body(expression: str) -> bool:
    """Whether the expression reads the message body (and so needs it to be JSON)."""
    return _plan(expression)[0]


def _is_body(name: str) -> bool:
    return name == _BODY or name.startswith((_BODY + ".", _BODY + "["))


#: A part of a planned expression: literal text, or the steps into the body of a variable
#: (None for a path that finds nothing, such as a variable other than ``request.body``).
_Planned = str | tuple[_Step, ...] | None


@functools.lru_cache(maxsize=64)
def _plan(expression: str) -> tuple[bool, tuple[_Planned, ...]]:
    """What evaluating the expression does, worked out once: whether it reads the body, and
    its parts with each body variable's path already split (messages are routed by the same
    expression again and again)."""
    parts: list[_Planned] = []
    reads_body = False
    for is_variable, text in parse(expression):
        if not is_variable:
            parts.append(text)
        elif _is_body(text):
            reads_body = True
            parts.append(_steps(text[len(_BODY) :]))
        else:
            parts.append(None)  # WebSocket route selection reads only the body
    return reads_body, tuple(parts)


def parse_body(body: str | None) -> Any:
    """The body as JSON, or :data:`NOT_JSON` when it is missing or not JSON."""
    if body is None:
        return NOT_JSON
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than json allows
        return NOT_JSON


def evaluate(expression: str, body: str | None, *, document: Any = NOT_JSON) -> str | None:
    """Evaluate a route selection expression against a message.

    ``document`` may pass the body already parsed (the runtime has it); otherwise ``body`` is
    parsed here. Returns None when the expression reads the body and it is not JSON: such a
    message goes to ``$default``.
    """
    reads_body, parts = _plan(expression)
    if reads_body:
        if document is NOT_JSON:
            document = parse_body(body)
        if document is NOT_JSON:
            return None
    return "".join(
        part if isinstance(part, str) else "" if part is None else stringify(_walk(document, part))
        for part in parts
    )


def select_route(
    expression: str,
    body: str | None,
    route_keys: Collection[str],
    *,
    has_default: bool = True,
) -> str | None:
    """The route key a message goes to, or None when nothing matches and the API has no
    ``$default`` route (the client then gets the Forbidden frame)."""
    selected = evaluate(expression, body)
    if selected is not None and not selected.startswith("$") and selected in route_keys:
        return selected
    return DEFAULT_ROUTE if has_default else None
