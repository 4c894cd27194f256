"""Per-invocation state: the event being handled, kept in context variables.

Endpoint discovery and log lines read the current :class:`~wsgate.events.Event` from here, never
from ``os.environ``, so two invocations (or two threads of a broadcast) never see each other's
values, and nothing parses the raw event a second time.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .events import Event

#: The event of the invocation being handled, or None outside one.
current_event: ContextVar[Event | None] = ContextVar("wsgate_event", default=None)
#: The Lambda context object of the invocation being handled, or None outside one.
current_lambda_context: ContextVar[Any] = ContextVar("wsgate_lambda_context", default=None)
