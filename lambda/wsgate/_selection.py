"""The route key a message selected, read back from its body by the route selection expression.

A message that matches no route reaches Lambda as ``$default``; the event does not say what the
client asked for. To name it (in the ``unknown_action`` error frame), the expression is evaluated
against the body as API Gateway evaluates it. The expression is the Terraform module's default,
``$request.body.action``, unless ``WSGATE_ROUTE_SELECTION_EXPRESSION`` names another one.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

from . import _json
from .errors import MessageError

if TYPE_CHECKING:
    from .events import Event

#: The route selection expression the API uses: the module's default unless the environment
#: names another one (``WSGATE_ROUTE_SELECTION_EXPRESSION``, same syntax as the Terraform variable).
ENV_ROUTE_SELECTION = "WSGATE_ROUTE_SELECTION_EXPRESSION"
DEFAULT_ROUTE_SELECTION = "$request.body.action"
#: At most this many characters of a client's action are repeated back in an error frame.
ACTION_SHOWN = 100
_SELECTION_VARIABLE = re.compile(r"(?<!\\)\$\{([^}]*)\}|(?<!\\)\$([A-Za-z_][A-Za-z0-9_.\[\]-]*)")
_PATH_PART = re.compile(r"^([^\[]*)((?:\[\d+\])*)$")


def selected_route(event: Event) -> str:
    """The route key a message's body selects by the route selection expression, or ``""``.

    Only ``$request.body.<path>`` variables (bare or in ``${...}``) can be read back from the
    event; an expression with any other variable, or a body that is not JSON, gives ``""``.
    """
    expression = os.environ.get(ENV_ROUTE_SELECTION, "").strip() or DEFAULT_ROUTE_SELECTION
    try:
        document = event.json
    except MessageError:
        return ""
    parts: list[str] = []
    position = 0
    for match in _SELECTION_VARIABLE.finditer(expression):
        name = (match.group(1) or match.group(2) or "").strip()
        if not name.startswith("request.body."):
            return ""
        parts.append(expression[position : match.start()].replace("\\$", "$"))
        parts.append(_as_route_text(_body_value(document, name[len("request.body.") :])))
        position = match.end()
    parts.append(expression[position:].replace("\\$", "$"))
    return "".join(parts)


def _body_value(document: Any, path: str) -> Any:
    """The value at a dotted JSONPath (``a.b[0].c``) in the body, or None."""
    current = document
    for part in path.split("."):
        found = _PATH_PART.match(part)
        if found is None:
            return None
        if found.group(1):
            if not isinstance(current, dict):
                return None
            current = current.get(found.group(1))
        for index in re.findall(r"\d+", found.group(2)):
            if not isinstance(current, list) or int(index) >= len(current):
                return None
            current = current[int(index)]
    return current


def _as_route_text(value: Any) -> str:
    """A selected value as API Gateway compares it with route keys (JSON text for non-strings)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return _json.dumps(value)
