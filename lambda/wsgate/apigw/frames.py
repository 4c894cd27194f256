"""The error frames API Gateway itself sends on an open connection.

These are API Gateway's, not the runtime's (the runtime's own error frames are JSON objects with
``type: "error"``, built in ``wsgate.errors``). The text is undocumented; the spacing is exactly
as observed in public wscat transcripts and issue threads (aws-samples/simple-websockets-chat-app
#24 for Forbidden, #46 for Internal server error; Kludex/mangum#128 for the timeout).
"""

from __future__ import annotations

#: No route matched and the API has no ``$default`` route.
FORBIDDEN = "Forbidden"
#: The integration failed: the Lambda threw, its output was malformed, or it could not run.
INTERNAL_SERVER_ERROR = "Internal server error"
#: The integration did not answer within its timeout (29 s by default).
ENDPOINT_TIMED_OUT = "Endpoint request timed out"
#: A throttled handshake's status text ("Protect your WebSocket APIs in API Gateway": clients
#: "may receive 429 Too Many Requests"); the body API Gateway sends with it is not documented.
TOO_MANY_REQUESTS = "Too Many Requests"


def error_frame(message: str, connection_id: str, request_id: str) -> str:
    """An API Gateway error frame with the observed spacing:
    ``{"message": "Forbidden", "connectionId":"…", "requestId":"…"}``."""
    return (
        f'{{"message": "{message}", "connectionId":"{connection_id}", "requestId":"{request_id}"}}'
    )


def handshake_error(status: int) -> str:
    """The ``message`` of a refused handshake's JSON body, by HTTP status."""
    return {401: "Unauthorized", 403: "Forbidden", 429: TOO_MANY_REQUESTS}.get(
        status, INTERNAL_SERVER_ERROR
    )
