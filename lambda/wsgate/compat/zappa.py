"""Zappa's WebSocket names on wsgate: move a Zappa app over by changing one import.

``from zappa.websocket import on_connect, on_disconnect, on_message, send_message`` becomes
``from wsgate.compat.zappa import ...``; nothing else in the app changes. As in Zappa, handlers
take the raw ``(event, context)`` and return a proxy response such as ``{"statusCode": 200}``;
``on_message`` handles every message; a ``ZappaWebSocketServer`` subclass registers the methods
it overrides; registering a route again replaces the earlier handler.

The Lambda handler is :func:`handler` (handler string ``wsgate.compat.zappa.handler``). On its
first call it imports the module named by ``WSGATE_ZAPPA_MODULE`` (default ``app``) if nothing
is registered yet, the way Zappa imports the module that uses its decorators. Unlike Zappa,
:func:`send_message` finds the management endpoint with wsgate's discovery (``WSGATE_ENDPOINT``,
then the current event), so it works behind a custom domain and from Lambdas that are not
WebSocket handlers; connection-store glue, logging and error frames are wsgate's.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

from ..app import CONNECT, DEFAULT, DISCONNECT, App, describe
from ..errors import ConfigurationError
from ..events import Event
from ..responses import Response

__all__ = [
    "WebSocketConfigurationError",
    "ZappaWebSocketServer",
    "get_handler",
    "handler",
    "is_websocket_event",
    "lambda_handler",
    "on_connect",
    "on_disconnect",
    "on_message",
    "send_message",
    "validate_registry",
]

ZappaHandler = Callable[[Any, Any], Any]
F = TypeVar("F", bound=ZappaHandler)

REQUIRED_ROUTES = (CONNECT, DEFAULT)
_DECORATOR_OF = {CONNECT: "@on_connect", DEFAULT: "@on_message", DISCONNECT: "@on_disconnect"}

_log = logging.getLogger("wsgate.compat.zappa")
_app = App()
#: Route key -> the Zappa-style function registered for it (filled at import, read after).
_registry: dict[str, ZappaHandler] = {}


class WebSocketConfigurationError(ConfigurationError):
    """Handlers are registered but ``$connect`` or ``$default`` has none (Zappa's check)."""


def _adapt(fn: ZappaHandler) -> Callable[[Event], Any]:
    """Call a Zappa handler with the raw event and turn its proxy dict into a ``Response``."""

    def call(event: Event) -> Any:
        result = fn(event.raw, event.lambda_context)
        if isinstance(result, Mapping) and "statusCode" in result:
            return Response(
                status_code=int(result["statusCode"]),
                body=result.get("body"),
                headers=result.get("headers"),
            )
        return result

    call.__qualname__ = getattr(fn, "__qualname__", "handler")
    call.__module__ = getattr(fn, "__module__", __name__)
    return call


def _register(key: str, fn: ZappaHandler) -> None:
    previous = _registry.get(key)
    if previous is not None and previous is not fn:
        _log.info("%s replaces %s for %s", describe(fn), describe(previous), key)
    _registry[key] = fn
    _app._set_route(key, _adapt(fn))


def on_connect(func: F) -> F:
    """Register ``func(event, context)`` for ``$connect``."""
    _register(CONNECT, func)
    return func


def on_disconnect(func: F) -> F:
    """Register ``func(event, context)`` for ``$disconnect``."""
    _register(DISCONNECT, func)
    return func


def on_message(func: F) -> F:
    """Register ``func(event, context)`` for every message (the ``$default`` route)."""
    _register(DEFAULT, func)
    return func


class ZappaWebSocketServer:
    """Subclass and override ``on_connect``, ``on_disconnect`` and/or ``on_message``.

    Only overridden methods are registered, when the class is defined; one instance per class
    is created on the first event.
    """

    _instance: ClassVar[Any] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._instance = None
        base = ZappaWebSocketServer
        for key, name in ((CONNECT, "on_connect"), (DISCONNECT, "on_disconnect")):
            if getattr(cls, name) is not getattr(base, name):
                _register(key, _bound(cls, name))
        if cls.on_message is not base.on_message:
            _register(DEFAULT, _bound(cls, "on_message"))

    @classmethod
    def _get_instance(cls) -> Any:
        if cls.__dict__.get("_instance") is None:
            cls._instance = cls()
        return cls._instance

    def on_connect(self, event: Any, context: Any) -> Any:
        return {"statusCode": 200}

    def on_disconnect(self, event: Any, context: Any) -> Any:
        return {"statusCode": 200}

    def on_message(self, event: Any, context: Any) -> Any:
        return {"statusCode": 200}


def _bound(cls: type[ZappaWebSocketServer], name: str) -> ZappaHandler:
    def call(event: Any, context: Any) -> Any:
        return getattr(cls._get_instance(), name)(event, context)

    call.__qualname__ = f"{cls.__qualname__}.{name}"
    call.__module__ = cls.__module__
    return call


def send_message(connection_id: Any, data: Any) -> None:
    """Send ``data`` (dict → JSON, str → UTF-8, bytes raw) to a connection.

    ``connection_id`` may also be an event dict (older Zappa releases took the event).
    """
    from ..messaging import send

    if isinstance(connection_id, Mapping):
        connection_id = (connection_id.get("requestContext") or {}).get("connectionId")
    if not isinstance(connection_id, str) or not connection_id:
        raise ValueError("send_message needs a connection id (or an event that carries one)")
    send(connection_id, data)


def get_handler(route_key: str) -> ZappaHandler | None:
    """The function registered for ``route_key``, falling back to ``$default``; else None."""
    return _registry.get(route_key) or _registry.get(DEFAULT)


def is_websocket_event(event: Any) -> bool:
    """True for an API Gateway WebSocket event (CONNECT, MESSAGE or DISCONNECT)."""
    if not isinstance(event, Mapping):
        return False
    context = event.get("requestContext")
    return isinstance(context, Mapping) and context.get("eventType") in (
        "CONNECT",
        "MESSAGE",
        "DISCONNECT",
    )


def validate_registry() -> None:
    """Raise ``WebSocketConfigurationError`` if handlers exist but ``$connect``/``$default`` not."""
    if not _registry:
        return
    missing = [key for key in REQUIRED_ROUTES if key not in _registry]
    if missing:
        names = ", ".join(_DECORATOR_OF[key] for key in missing)
        raise WebSocketConfigurationError(
            f"WebSocket handlers are registered but these routes have none: {names}. "
            "Define handlers for $connect and $default ($disconnect is optional)."
        )


def _import_app_module() -> None:
    """Import the user's module once, so its decorators fill the registry."""
    if _registry:
        return
    module = os.environ.get("WSGATE_ZAPPA_MODULE", "app")
    try:
        importlib.import_module(module)
    except ImportError as exc:
        raise ConfigurationError(
            f"no Zappa-style handlers are registered and module {module!r} could not be "
            "imported; set WSGATE_ZAPPA_MODULE to the module that uses the decorators"
        ) from exc


def handler(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """The Lambda handler: ``wsgate.compat.zappa.handler``."""
    if not _registry:
        _import_app_module()
    return _app(event, context)


def _reset() -> None:
    """Forget every registration (tests load several apps in one process)."""
    global _app
    _registry.clear()
    _app = App()


#: Zappa's generated handler is named ``lambda_handler``; both names work.
lambda_handler = handler
