"""The route key a message selected, read back from its body by the route selection expression.

A message that matches no route reaches Lambda as ``$default``; the event does not say what the
client asked for. To name it (in the ``unknown_action`` error frame), the expression is evaluated
against the body with API Gateway's rules (:mod:`wsgate.apigw.selection`). The expression is the
Terraform module's default, ``$request.body.action``, unless ``WSGATE_ROUTE_SELECTION_EXPRESSION``
names another one.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from .apigw import selection
from .errors import MessageError

if TYPE_CHECKING:
    from .events import Event

#: The route selection expression the API uses: the module's default unless the environment
#: names another one (``WSGATE_ROUTE_SELECTION_EXPRESSION``, same syntax as the Terraform variable).
ENV_ROUTE_SELECTION = "WSGATE_ROUTE_SELECTION_EXPRESSION"
DEFAULT_ROUTE_SELECTION = selection.DEFAULT_EXPRESSION
#: At most this many characters of a client's action are repeated back in an error frame.
ACTION_SHOWN = 100


def selected_route(event: Event) -> str:
    """The route key a message's body selects by the route selection expression, or ``""``
    when the body is not JSON (API Gateway then cannot evaluate the expression)."""
    expression = os.environ.get(ENV_ROUTE_SELECTION, "").strip() or DEFAULT_ROUTE_SELECTION
    try:
        document = event.json
    except MessageError:
        return ""
    return selection.evaluate(expression, event.body, document=document) or ""
