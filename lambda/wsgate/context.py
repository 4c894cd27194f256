"""Per-invocation state: the event being handled, kept in context variables.

Endpoint discovery reads the current event from here, never from ``os.environ``, so two
invocations (or two threads of a broadcast) never see each other's values.
"""

from __future__ import annotations

from contextvars import ContextVar

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

#: The raw API Gateway event of the invocation being handled, or None outside one.
current_event: ContextVar[Mapping[str, Any] | None] = ContextVar("wsgate_event", default=None)
#: The Lambda context object of the invocation being handled, or None outside one.
current_lambda_context: ContextVar[Any] = ContextVar("wsgate_lambda_context", default=None)
