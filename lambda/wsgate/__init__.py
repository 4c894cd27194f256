"""wsgate: the runtime for serverless WebSocket APIs on AWS API Gateway and Lambda.

``import wsgate`` loads the runtime's own modules and nothing heavy: boto3 is imported only when a
message is sent or the connection table is touched, so cold starts stay short.
"""

from __future__ import annotations

from typing import Any

from ._version import __version__
from .app import App
from .auth import authorizer
from .errors import (
    BadRequest,
    ConfigurationError,
    Forbidden,
    Gone,
    MessageError,
    PayloadTooLarge,
    RegistrationError,
    SendFailed,
    SendTooLarge,
    Unauthorized,
    UnknownAction,
    WsgateError,
)
from .events import Event
from .fanout import FanoutReport, PublishStatus, broadcast_all
from .messaging import BroadcastReport, broadcast, close, info, send
from .responses import Response
from .rooms import rooms
from .server import WebSocketHandler, handles
from .store import connections

__all__ = [
    "App",
    "BadRequest",
    "BroadcastReport",
    "ConfigurationError",
    "Event",
    "FanoutReport",
    "Forbidden",
    "Gone",
    "MessageError",
    "PayloadTooLarge",
    "PublishStatus",
    "RegistrationError",
    "Response",
    "SendFailed",
    "SendTooLarge",
    "Unauthorized",
    "UnknownAction",
    "WebSocketHandler",
    "WsgateError",
    "__version__",
    "authorizer",
    "broadcast",
    "broadcast_all",
    "close",
    "connections",
    "handles",
    "info",
    "rooms",
    "send",
]

#: Names kept for code written before 1.0 (each use warns): old name -> (object, new name).
_DEPRECATED: dict[str, tuple[Any, str]] = {
    "ClientError": (MessageError, "MessageError"),
    "Server": (WebSocketHandler, "WebSocketHandler"),
    "route": (handles, "handles"),
}


def __getattr__(name: str) -> Any:
    import warnings

    found = _DEPRECATED.get(name)
    if found is None:
        raise AttributeError(f"module 'wsgate' has no attribute {name!r}")
    value, new_name = found
    warnings.warn(
        f"wsgate.{name} is deprecated and will be removed in 1.0; use wsgate.{new_name}",
        DeprecationWarning,
        stacklevel=2,
    )
    return value
