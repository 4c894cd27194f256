"""The one exception hierarchy of wsgate.

Exceptions a client may hear about (:class:`MessageError` and its subclasses, ``Unauthorized``,
``Forbidden``) carry a ``code`` (the ``code`` of the runtime's JSON error frame) and a
``public_message`` that is safe to send; everything else stays in the logs and the client only
hears ``internal_error``.
"""

from __future__ import annotations

import warnings
from typing import Any


class WsgateError(Exception):
    """Base class of every error wsgate raises."""

    code = "internal_error"
    public_message = "Internal error"


class ConfigurationError(WsgateError):
    """A setting is missing or wrong; the message names the fix."""


class RegistrationError(WsgateError):
    """A handler was registered twice for one route key, or in a way that cannot work."""


class MessageError(WsgateError):
    """The client's message is refused; the client is told so in an error frame.

    Raise it (or a subclass) from a handler to answer with ``{"type": "error", "code": ...}``.
    """

    code = "bad_request"
    public_message = "Bad request"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.public_message)
        if message:
            self.public_message = message


class BadRequest(MessageError):
    """The message body is not what the route expects (for example, not valid JSON)."""

    code = "bad_request"
    public_message = "Bad request"


class UnknownAction(MessageError):
    """The message selected a route with no handler and the app has no default handler."""

    code = "unknown_action"
    public_message = "Unknown action"


class PayloadTooLarge(MessageError):
    """The client sent more than the route accepts (raise it from a handler to say so).

    API Gateway itself closes a connection whose message is over 128 KB before any handler runs;
    a send of too much data by the app is :class:`SendTooLarge`, which the client never hears of.
    """

    code = "payload_too_large"
    public_message = "Payload too large"


class SendTooLarge(WsgateError, ValueError):
    """Data given to ``send``/``broadcast``/``publish`` is over API Gateway's 128 KB limit.

    Raised before any call. It is the app's mistake, not the client's: when a handler lets it
    escape, the client gets ``internal_error`` and the log says what was too large.
    """


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


def __getattr__(name: str) -> Any:
    """``wsgate.errors.ClientError``, the name :class:`MessageError` had before 0.2 (warns)."""
    if name != "ClientError":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(
        "wsgate.errors.ClientError is deprecated and will be removed in 1.0; use MessageError",
        DeprecationWarning,
        stacklevel=2,
    )
    return MessageError
