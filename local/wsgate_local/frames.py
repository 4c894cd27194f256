"""API Gateway's limits, close codes and error frames. Pure values and functions, no I/O."""

from __future__ import annotations

#: Largest WebSocket frame API Gateway accepts from a client (32 KB).
MAX_FRAME_BYTES = 32 * 1024
#: Largest message, after reassembling its frames (128 KB).
MAX_MESSAGE_BYTES = 128 * 1024
#: Largest ``Data`` of a PostToConnection call (botocore's model: 131,072 bytes).
MAX_POST_BYTES = 131_072
#: Idle timeout and maximum connection duration on AWS, in seconds.
IDLE_TIMEOUT_S = 600.0
MAX_DURATION_S = 7200.0
#: Integration timeout bounds and default for WebSocket APIs, in milliseconds.
MIN_TIMEOUT_MS, MAX_TIMEOUT_MS, DEFAULT_TIMEOUT_MS = 50, 29_000, 29_000

CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_NO_STATUS = 1005
CLOSE_ABNORMAL = 1006
CLOSE_INVALID_TEXT = 1007
CLOSE_TOO_BIG = 1009

#: ``disconnectReason`` texts seen on AWS.
REASON_DELETED = "Connection Closed Normally"
REASON_GOING_AWAY = "Going away"
REASON_NO_STATUS = "Client-side close frame status not set"

FORBIDDEN = "Forbidden"
INTERNAL_SERVER_ERROR = "Internal server error"
ENDPOINT_TIMED_OUT = "Endpoint request timed out"


def error_frame(message: str, connection_id: str, request_id: str) -> str:
    """An API Gateway error frame, with the exact spacing observed on AWS:
    ``{"message": "Forbidden", "connectionId":"…", "requestId":"…"}``."""
    return (
        f'{{"message": "{message}", "connectionId":"{connection_id}", "requestId":"{request_id}"}}'
    )


def disconnect_status(close_code: int | None, reason: str) -> tuple[int, str]:
    """``disconnectStatusCode``/``disconnectReason`` for a close the client started:
    its own code and reason, or 1005 with AWS's text when its close frame had no code."""
    if not close_code:
        return CLOSE_NO_STATUS, REASON_NO_STATUS
    return close_code, reason
