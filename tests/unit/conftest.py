"""Builders of API Gateway events shaped like the captures in ``tests/events``, and log capture."""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from wsgate import logs

_ids = itertools.count(1)


def _id() -> str:
    # 16 characters ending in "=", like API Gateway's ids.
    return f"T{next(_ids):014d}="


def request_context(route_key: str, event_type: str, connection_id: str) -> dict[str, Any]:
    """``requestContext`` with every field API Gateway sends, in its order."""
    request_id = _id()
    return {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": request_id,
        "requestTime": "23/Nov/2026:02:40:00 +0000",
        "messageDirection": "IN",
        "stage": "dev",
        "connectedAt": 1795401600000,
        "requestTimeEpoch": 1795401600123,
        "identity": {"sourceIp": "127.0.0.1", "userAgent": "pytest"},
        "requestId": request_id,
        "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
        "connectionId": connection_id,
        "apiId": "abc123",
    }


def connect_event(
    connection_id: str = "conn-1=",
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    authorizer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    all_headers = {"Host": "abc123.execute-api.us-east-1.amazonaws.com", **(headers or {})}
    event: dict[str, Any] = {
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "requestContext": request_context("$connect", "CONNECT", connection_id),
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = query
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    if authorizer:
        event["requestContext"]["authorizer"] = authorizer
    return event


def message_event(route_key: str, body: Any, connection_id: str = "conn-1=") -> dict[str, Any]:
    context = request_context(route_key, "MESSAGE", connection_id)
    context = {"routeKey": route_key, "messageId": _id(), **context}
    return {
        "requestContext": context,
        "body": body if isinstance(body, str) else json.dumps(body),
        "isBase64Encoded": False,
    }


def disconnect_event(connection_id: str = "conn-1=", code: int = 1001) -> dict[str, Any]:
    context = request_context("$disconnect", "DISCONNECT", connection_id)
    context["disconnectStatusCode"] = code
    context["disconnectReason"] = "Going away"
    headers = {"Host": context["domainName"], "x-api-key": "", "X-Forwarded-For": ""}
    return {
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "requestContext": context,
        "isBase64Encoded": False,
    }


class ApiEvents:
    """Builders of the three event kinds, as the ``apigw`` fixture hands them to tests."""

    connect = staticmethod(connect_event)
    message = staticmethod(message_event)
    disconnect = staticmethod(disconnect_event)


@pytest.fixture
def apigw() -> ApiEvents:
    """Builders of API Gateway events: ``connect``, ``message(route, body)``, ``disconnect``."""
    return ApiEvents()


class LogLines(logging.Handler):
    """Collects the JSON lines the ``wsgate`` loggers write."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logs.JsonFormatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def log_lines() -> Iterator[list[dict[str, Any]]]:
    """Every line logged under ``wsgate`` during the test, parsed."""
    handler = LogLines()
    logger = logging.getLogger("wsgate")
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)
