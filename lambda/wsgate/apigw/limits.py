"""API Gateway's WebSocket limits and close codes, in one place.

Sizes and durations: AWS developer guide, "Amazon API Gateway quotas for configuring and running
a WebSocket API", and botocore's apigatewaymanagementapi model (``Data`` max). Close codes: the
same quotas page (1009) and "Working with binary media types for WebSocket APIs" (1003); the
``disconnectReason`` texts are those of the ``$disconnect`` captures in ``tests/events`` and of a
DeleteConnection seen in boto/boto3#3789.
"""

from __future__ import annotations

#: Largest WebSocket frame API Gateway accepts from a client: 32 KB (not adjustable).
MAX_FRAME_BYTES = 32 * 1024
#: Largest message after its frames are reassembled: 128 KB; over it the client is closed 1009.
MAX_MESSAGE_BYTES = 128 * 1024
#: Largest ``Data`` of PostToConnection (botocore's apigatewaymanagementapi model: ``Data.max``).
MAX_POST_BYTES = 131_072
#: Idle timeout and maximum connection duration, in seconds (10 minutes, 2 hours).
IDLE_TIMEOUT_S = 600.0
MAX_DURATION_S = 7200.0
#: Integration timeout bounds and the WebSocket default, in milliseconds (``TimeoutInMillis``).
MIN_TIMEOUT_MS, MAX_TIMEOUT_MS, DEFAULT_TIMEOUT_MS = 50, 29_000, 29_000
#: Largest Lambda authorizer result (8 KB, not adjustable).
MAX_AUTHORIZER_RESULT_BYTES = 8192
#: Bytes waiting to reach one client above which PostToConnection answers 429
#: ``LimitExceededException``: botocore's apigatewaymanagementapi model documents that error
#: for "the WebSocket client side buffer is full". AWS does not publish the buffer's size; eight
#: full-size payloads is the local gateway's choice, enough for any client that keeps reading.
MAX_OUTBOUND_BUFFER_BYTES = 8 * MAX_POST_BYTES
#: Seconds a server-side close waits for its close frame to go out and the client's answer;
#: after that the TCP connection is dropped (a client that stops reading cannot hold it open).
CLOSE_WAIT_S = 5.0

#: Largest synchronous Lambda response, in bytes. Lambda's runtime API refuses a bigger one with
#: 413 ``{"errorMessage": "Exceeded maximum allowed payload size (6291556 bytes).",
#: "errorType": "RequestEntityTooLarge"}`` (Lambda developer guide, "Lambda quotas": 6 MB for a
#: synchronous response; the exact figure as seen in anomalyco/console#63 and
#: DataBiosphere/azul#8258), and API Gateway then fails the integration (Internal server error).
MAX_LAMBDA_RESPONSE_BYTES = 6_291_556
#: The account's throttle per Region, shared by every API: 10,000 requests/s steady, a token
#: bucket of 5,000 (quotas page). Stage and route limits ("Protect your WebSocket APIs in API
#: Gateway") are token buckets too and cannot go above it; over a limit a handshake gets
#: 429 Too Many Requests. What a throttled in-connection message gets is not documented.
ACCOUNT_RATE_LIMIT = 10_000.0
ACCOUNT_BURST_LIMIT = 5_000
THROTTLED_STATUS = 429

CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_UNSUPPORTED_DATA = 1003  # a binary frame: API Gateway does not take them
CLOSE_NO_STATUS = 1005
CLOSE_ABNORMAL = 1006
CLOSE_INVALID_TEXT = 1007
CLOSE_TOO_BIG = 1009  # a frame over 32 KB or a message over 128 KB

#: ``disconnectReason`` texts seen on AWS.
REASON_DELETED = "Connection Closed Normally"  # DeleteConnection
REASON_GOING_AWAY = "Going away"  # idle timeout
REASON_NO_STATUS = "Client-side close frame status not set"  # the client's close had no code


def disconnect_status(close_code: int | None, reason: str) -> tuple[int, str]:
    """``disconnectStatusCode``/``disconnectReason`` for a close the client started:
    its own code and reason, or 1005 with AWS's text when its close frame had no code."""
    if not close_code:
        return CLOSE_NO_STATUS, REASON_NO_STATUS
    return close_code, reason
