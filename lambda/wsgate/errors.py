"""The one exception hierarchy of wsgate.

Exceptions a client may hear about carry a ``code`` (the ``code`` of the runtime's JSON error
frame) and a ``public_message`` that is safe to send; everything else stays in the logs.
"""

from __future__ import annotations


class WsgateError(Exception):
    """Base class of every error wsgate raises."""

    code = "internal_error"
    public_message = "Internal error"


class ConfigurationError(WsgateError):
    """A setting is missing or wrong; the message names the fix."""


class RegistrationError(WsgateError):
    """A handler was registered twice for one route key, or in a way that cannot work."""


class ClientError(WsgateError):
    """The client sent something the runtime refuses; it is told so in an error frame."""

    code = "bad_request"
    public_message = "Bad request"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.public_message)
        if message:
            self.public_message = message


class BadRequest(ClientError):
    """The message body is not what the route expects (for example, not valid JSON)."""

    code = "bad_request"
    public_message = "Bad request"


class UnknownAction(ClientError):
    """The message selected a route with no handler and the app has no default handler."""

    code = "unknown_action"
    public_message = "Unknown action"


class PayloadTooLarge(ClientError):
    """A payload is over API Gateway's 128 KB (131,072 bytes) message limit."""

    code = "payload_too_large"
    public_message = "Payload too large"


class Gone(WsgateError):
    """The connection is closed (API Gateway answered 410 Gone). Never retried."""

    code = "gone"

    def __init__(self, connection_id: str) -> None:
        super().__init__(f"connection {connection_id!r} is gone")
        self.connection_id = connection_id


class SendFailed(WsgateError):
    """A call to the @connections API failed after its retries."""

    code = "send_failed"

    def __init__(self, connection_id: str, reason: str) -> None:
        super().__init__(f"sending to {connection_id!r} failed: {reason}")
        self.connection_id = connection_id
        self.reason = reason


class Unauthorized(WsgateError):
    """Raised by an authorizer function: API Gateway answers the handshake with 401."""

    code = "unauthorized"
    public_message = "Unauthorized"


class Forbidden(WsgateError):
    """Raised by an authorizer function: the policy is Deny and the handshake gets 403."""

    code = "forbidden"
    public_message = "Forbidden"
