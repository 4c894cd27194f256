"""wsgate: the runtime for serverless WebSocket APIs on AWS API Gateway and Lambda.

``import wsgate`` is cheap: names are loaded on first use, and boto3 is imported only when a
message is sent or the connection table is touched, so cold starts stay short.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time
if TYPE_CHECKING:
    from typing import Any

__version__ = "0.1.0"

# public name -> module (relative to this package) that defines it
_EXPORTS: dict[str, str] = {
    "App": ".app",
    "Event": ".events",
    "Response": ".responses",
    "Server": ".server",
    "route": ".server",
    "send": ".messaging",
    "broadcast": ".messaging",
    "close": ".messaging",
    "info": ".messaging",
    "BroadcastReport": ".messaging",
    "connections": ".store",
    "rooms": ".rooms",
    "authorizer": ".auth",
    "WsgateError": ".errors",
    "ConfigurationError": ".errors",
    "RegistrationError": ".errors",
    "ClientError": ".errors",
    "BadRequest": ".errors",
    "UnknownAction": ".errors",
    "PayloadTooLarge": ".errors",
    "Gone": ".errors",
    "SendFailed": ".errors",
    "Unauthorized": ".errors",
    "Forbidden": ".errors",
}

# Spelled out (not derived from _EXPORTS) so linters and type checkers can read it.
__all__ = [
    "App",
    "BadRequest",
    "BroadcastReport",
    "ClientError",
    "ConfigurationError",
    "Event",
    "Forbidden",
    "Gone",
    "PayloadTooLarge",
    "RegistrationError",
    "Response",
    "SendFailed",
    "Server",
    "Unauthorized",
    "UnknownAction",
    "WsgateError",
    "authorizer",
    "broadcast",
    "close",
    "connections",
    "info",
    "rooms",
    "route",
    "send",
]


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'wsgate' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # pragma: no cover - names for type checkers and editors
    from .app import App
    from .auth import authorizer
    from .errors import (
        BadRequest,
        ClientError,
        ConfigurationError,
        Forbidden,
        Gone,
        PayloadTooLarge,
        RegistrationError,
        SendFailed,
        Unauthorized,
        UnknownAction,
        WsgateError,
    )
    from .events import Event
    from .messaging import BroadcastReport, broadcast, close, info, send
    from .responses import Response
    from .rooms import rooms
    from .server import Server, route
    from .store import connections
