"""The @connections management API's wire format, as botocore's ``apigatewaymanagementapi``
client reads it (its 2018-11-29 service model, and ``RestJSONParser._inject_error_code`` in
``botocore/parsers.py``).

botocore's rest-json parser takes the error code from the ``x-amzn-ErrorType`` header (then a
``code`` key of the body, then the HTTP status), so every error answer carries that header and a
JSON body ``{"message": ...}``. ``GoneException`` has no modelled members: its message is null.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

#: The error type API Gateway answers with, by HTTP status (botocore's model for 403, 410, 413,
#: 429; 400 as seen for malformed ids; 500/503 are the generic service errors).
ERROR_TYPES: dict[int, str] = {
    400: "BadRequestException",
    403: "ForbiddenException",
    410: "GoneException",
    413: "PayloadTooLargeException",
    429: "LimitExceededException",
    500: "InternalServerErrorException",
    503: "ServiceUnavailableException",
}
#: The default ``message`` of an error answer, by status (410 has none).
ERROR_MESSAGES: dict[int, str | None] = {
    403: "Forbidden",
    410: None,
    429: "Rate exceeded",
    500: "Internal server error",
}
ERROR_TYPE_HEADER = "x-amzn-ErrorType"
#: Success statuses: PostToConnection and GetConnection 200, DeleteConnection 204.
POST_OK, GET_OK, DELETE_OK = 200, 200, 204


def error_type(status: int) -> str:
    """The ``x-amzn-ErrorType`` of an error answer with this HTTP status."""
    return ERROR_TYPES.get(status, "UnknownError")


def error_answer(status: int, message: str | None = None) -> tuple[dict[str, str], bytes]:
    """The headers and JSON body of an error answer; ``message`` defaults by status."""
    if message is None:
        message = ERROR_MESSAGES.get(status, error_type(status))
    headers = {ERROR_TYPE_HEADER: error_type(status), "Content-Type": "application/json"}
    return headers, json.dumps({"message": message}).encode()


def payload_too_large_message(limit: int) -> str:
    """PayloadTooLargeException's message for a PostToConnection over ``limit`` bytes."""
    return f"Message too long. Max {limit}"


def iso8601(epoch_ms: int) -> str:
    """``2024-01-20T11:55:00.453Z``: the timestamp format of GetConnection."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


def connection_document(
    connected_at_ms: int, source_ip: str, user_agent: str | None, last_active_ms: int
) -> dict[str, object]:
    """The GetConnection body: ``connectedAt``, ``identity`` (userAgent only when the client sent
    one), ``lastActiveAt``."""
    identity: dict[str, str] = {"sourceIp": source_ip}
    if user_agent is not None:
        identity["userAgent"] = user_agent
    return {
        "connectedAt": iso8601(connected_at_ms),
        "identity": identity,
        "lastActiveAt": iso8601(last_active_ms or connected_at_ms),
    }
