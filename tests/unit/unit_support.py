"""Builders of API Gateway events for the unit tests: the core's own builders with a fixed test
connection (imported as ``unit_support``; ``from conftest import`` can pick another directory's
conftest)."""

from __future__ import annotations

import json
from typing import Any

from wsgate.apigw import events, limits
from wsgate.apigw.events import ConnectionInfo

#: Where the test events come from: one API, stage ``dev``, a client that sent a User-Agent.
API_ID = "abc123"
DOMAIN = f"{API_ID}.execute-api.us-east-1.amazonaws.com"
CONNECTED_AT = 1795401600000


def connection(
    connection_id: str = "conn-1=", authorizer: dict[str, Any] | None = None
) -> ConnectionInfo:
    """What API Gateway remembers about the test connection and repeats in each of its events."""
    return ConnectionInfo(
        connection_id=connection_id,
        connected_at=CONNECTED_AT,
        source_ip="127.0.0.1",
        domain_name=DOMAIN,
        stage="dev",
        api_id=API_ID,
        user_agent="pytest",
        authorizer=authorizer,
    )


def connect_event(
    connection_id: str = "conn-1=",
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    authorizer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A $connect event as API Gateway builds it (``wsgate.apigw.events``)."""
    return events.connect_event(
        connection(connection_id, authorizer),
        [("Host", DOMAIN), *(headers or {}).items()],
        list((query or {}).items()),
    )


def message_event(route_key: str, body: Any, connection_id: str = "conn-1=") -> dict[str, Any]:
    """A MESSAGE event for ``route_key``; a ``body`` that is not text is sent as its JSON."""
    text = body if isinstance(body, str) else json.dumps(body)
    return events.message_event(connection(connection_id), route_key, text)


def disconnect_event(connection_id: str = "conn-1=", code: int = 1001) -> dict[str, Any]:
    """A $disconnect event with close ``code`` and the reason AWS reports with it."""
    reasons = {
        limits.CLOSE_NORMAL: limits.REASON_DELETED,
        limits.CLOSE_GOING_AWAY: limits.REASON_GOING_AWAY,
        limits.CLOSE_NO_STATUS: limits.REASON_NO_STATUS,
    }
    return events.disconnect_event(connection(connection_id), code, reasons.get(code, ""))


class ApiEvents:
    """Builders of the three event kinds, as the ``apigw`` fixture hands them to tests."""

    connect = staticmethod(connect_event)
    message = staticmethod(message_event)
    disconnect = staticmethod(disconnect_event)
