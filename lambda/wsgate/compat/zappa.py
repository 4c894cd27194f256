"""Zappa's WebSocket names on wsgate: move a Zappa app over by changing one import.

``from zappa.websocket import on_connect, on_disconnect, on_message, send_message`` becomes
``from wsgate.compat.zappa import ...``; the handlers stay as they are. The Lambda handler is
:func:`handler` (handler string ``wsgate.compat.zappa.handler``). It behaves like Zappa's
``LambdaHandler`` for the events a Zappa WebSocket app gets:

* WebSocket events (``CONNECT``, ``MESSAGE``, ``DISCONNECT``) go to the registered functions,
  called with the raw ``(event, context)`` (or ``(event)``, or ``()``, as their signature asks);
  the dict a handler returns is the Lambda's result, unchanged; ``None`` means ``{"statusCode":
  200}``. An exception propagates to Lambda (its Errors metric, Sentry, a retry policy see it)
  and API Gateway answers the client as for any failed integration.
* Before the first WebSocket event is dispatched, the module named by ``WSGATE_ZAPPA_MODULE``
  (Zappa's ``websocket_handler_module``; default ``app``) is imported if nothing is registered,
  and the registry is validated once: ``@on_connect`` and ``@on_message`` are required.
* Each WebSocket event sets ``REQUEST_DOMAIN_NAME`` and ``STAGE`` in ``os.environ``, as Zappa
  does, and ``WEBSOCKET_API_GATEWAY_ENDPOINT`` (the ``https://.../stage`` management endpoint).
  They stay set after the invocation, so threads the handler starts and later sends work.
* HTTP events (API Gateway HTTP API v2, REST API v1, an ALB) go to the app's WSGI or ASGI
  application, as Zappa's ``app_function`` did (see :mod:`wsgate.compat._zappa_http`).

Where wsgate differs from Zappa on purpose (each one keeps a Zappa app working):

* ``$disconnect`` without an ``@on_disconnect`` handler is accepted; Zappa would run the
  ``@on_message`` handler with the disconnect event.
* ``send_message`` prefers ``WSGATE_ENDPOINT`` (set by the Terraform module and by ``wsgate
  local``) over ``REQUEST_DOMAIN_NAME``/``STAGE``, so it works behind a custom domain and from a
  Lambda that never saw a WebSocket event.
* A ``TypeError`` raised inside a handler propagates; Zappa took it for a signature mismatch and
  called the handler again with fewer arguments.
* With a connection table (``WSGATE_TABLE``), connections are recorded on ``$connect`` and
  removed on ``$disconnect`` or when a send finds them gone, so ``wsgate.rooms`` and
  ``wsgate.broadcast`` work next to the Zappa handlers.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import json
import logging
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

from .. import ConfigurationError, Gone, fanout
from . import _zappa_http
from ._zappa_lambda import LambdaHandler
from ._zappa_store import forget, remember

__all__ = [
    "ENV_REQUEST_DOMAIN_NAME",
    "ENV_STAGE",
    "LambdaHandler",
    "WebSocketConfigurationError",
    "ZappaGoneError",
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

ZappaHandler = Callable[..., Any]
F = TypeVar("F", bound=ZappaHandler)

CONNECT, DISCONNECT, DEFAULT = "$connect", "$disconnect", "$default"
REQUIRED_ROUTES = (CONNECT, DEFAULT)
_DECORATOR_OF = {CONNECT: "@on_connect", DEFAULT: "@on_message"}
_WEBSOCKET_EVENT_TYPES = ("CONNECT", "MESSAGE", "DISCONNECT")

#: The variables Zappa's handler sets on every WebSocket event, under Zappa's names.
ENV_REQUEST_DOMAIN_NAME = "REQUEST_DOMAIN_NAME"
ENV_STAGE = "STAGE"
ENV_MANAGEMENT_ENDPOINT = "WEBSOCKET_API_GATEWAY_ENDPOINT"
#: The module whose decorators register the handlers (Zappa's ``websocket_handler_module``).
ENV_HANDLER_MODULE = "WSGATE_ZAPPA_MODULE"

_log = logging.getLogger("wsgate.compat.zappa")

#: Route key -> the function registered for it (filled at import, read after).
_registry: dict[str, ZappaHandler] = {}
#: Set once the registry has been checked (at the first WebSocket event), as in Zappa.
_validated = False
#: The cached @connections client and the endpoint it was made for (Zappa's names, so tests
#: written for Zappa that reset or replace them keep working).
_ws_client: Any = None
_ws_client_endpoint: str | None = None
_client_lock = threading.Lock()


def __getattr__(name: str) -> Any:
    # ``zappa.websocket.boto3`` is what tests patch (``patch("zappa.websocket.boto3.client")``);
    # boto3 is imported on that first look, not at import, so cold starts stay short.
    if name == "boto3":
        import boto3  # type: ignore[import-untyped,unused-ignore]

        return boto3
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class WebSocketConfigurationError(ConfigurationError):
    """Handlers are registered but ``$connect`` or ``$default`` has none (Zappa's check)."""


# -- registration -----------------------------------------------------------------------------
def on_connect(func: F) -> F:
    """Register ``func(event, context)`` for ``$connect``."""
    _registry[CONNECT] = func
    return func


def on_disconnect(func: F) -> F:
    """Register ``func(event, context)`` for ``$disconnect``."""
    _registry[DISCONNECT] = func
    return func


def on_message(func: F) -> F:
    """Register ``func(event, context)`` for every message (the ``$default`` route)."""
    _registry[DEFAULT] = func
    return func


class ZappaWebSocketServer:
    """Subclass and override ``on_connect``, ``on_disconnect`` and/or ``on_message``.

    Only overridden methods are registered, when the class is defined; one instance per class
    is created on its first event.
    """

    _instance: ClassVar[Any] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._instance = None
        base = ZappaWebSocketServer
        for key, name in ((CONNECT, "on_connect"), (DISCONNECT, "on_disconnect")):
            if getattr(cls, name) is not getattr(base, name):
                _registry[key] = _bound(cls, name)
        if cls.on_message is not base.on_message:
            _registry[DEFAULT] = _bound(cls, "on_message")

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


def get_handler(route_key: str) -> ZappaHandler | None:
    """The function registered for ``route_key``, falling back to ``$default``; else None."""
    return _registry.get(route_key) or _registry.get(DEFAULT)


def is_websocket_event(event: Any) -> bool:
    """True for an API Gateway WebSocket event (CONNECT, MESSAGE or DISCONNECT)."""
    if not isinstance(event, Mapping):
        return False
    context = event.get("requestContext")
    return isinstance(context, Mapping) and context.get("eventType") in _WEBSOCKET_EVENT_TYPES


def validate_registry() -> None:
    """Raise ``WebSocketConfigurationError`` if handlers exist but ``$connect``/``$default`` not.

    Checks once, like Zappa: later calls return at once.
    """
    global _validated
    if _validated:
        return
    _validated = True
    if not _registry:
        return
    missing = [key for key in REQUIRED_ROUTES if key not in _registry]
    if missing:
        names = ", ".join(_DECORATOR_OF[key] for key in missing)
        raise WebSocketConfigurationError(
            f"WebSocket handlers are registered but these required routes have none: {names}. "
            "Define handlers for $connect and $default ($disconnect is optional)."
        )


# -- sending ----------------------------------------------------------------------------------
class ZappaGoneError(Exception):
    """The connection is gone (HTTP 410): botocore's ``ClientError`` *and* ``wsgate.Gone``.

    Made by :func:`send_message` from the ``GoneException`` botocore raised, so both
    ``except ClientError`` with ``e.response["Error"]["Code"] == "GoneException"`` (Zappa code)
    and ``except wsgate.Gone`` (wsgate code) catch it.
    """


def _gone_error(exc: Any, connection_id: str) -> Exception:
    """``exc`` (a botocore ClientError for GoneException) as a ZappaGoneError of both kinds."""
    from botocore.exceptions import ClientError  # type: ignore[import-untyped,unused-ignore]

    cls = _GONE_CLASS.get("cls")
    if cls is None:
        # Built on first use: botocore is not imported until something is sent.
        cls = type("ZappaGoneError", (ZappaGoneError, ClientError, Gone), {"__module__": __name__})
        _GONE_CLASS["cls"] = cls
    error: Any = Exception.__new__(cls)
    ClientError.__init__(error, exc.response, exc.operation_name)
    error.args = exc.args  # ClientError's own message, not Gone's
    error.connection_id = connection_id
    return error  # type: ignore[no-any-return]


_GONE_CLASS: dict[str, type[Exception]] = {}


def _management_endpoint() -> str:
    """``WSGATE_ENDPOINT`` if set, else the endpoint of the last WebSocket event seen."""
    explicit = os.environ.get("WSGATE_ENDPOINT", "").strip()
    if explicit:
        return explicit.rstrip("/")
    domain = os.environ.get(ENV_REQUEST_DOMAIN_NAME, "").strip()
    stage = os.environ.get(ENV_STAGE, "").strip()
    if domain and stage:
        from ..endpoint import endpoint_from_event

        found = endpoint_from_event({"requestContext": {"domainName": domain, "stage": stage}})
        if found:
            return found
    raise ConfigurationError(
        "send_message has no @connections endpoint: set WSGATE_ENDPOINT "
        "(the wsgate module sets it on its functions), or send from a function that has "
        "handled a WebSocket event (that sets REQUEST_DOMAIN_NAME and STAGE)"
    )


def _get_ws_client() -> Any:
    """The cached ``apigatewaymanagementapi`` client for the current endpoint."""
    global _ws_client, _ws_client_endpoint
    endpoint = _management_endpoint()
    client = _ws_client
    if client is not None and _ws_client_endpoint == endpoint:
        return client
    with _client_lock:  # boto3's default session is not safe to create clients from threads
        if _ws_client is None or _ws_client_endpoint != endpoint:
            import boto3  # type: ignore[import-untyped,unused-ignore]

            _ws_client = boto3.client("apigatewaymanagementapi", endpoint_url=endpoint)
            _ws_client_endpoint = endpoint
        return _ws_client


def _encode(data: Any) -> bytes:
    """Zappa's encoding: bytes as they are, str as UTF-8, anything else ``json.dumps``'d."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode("utf-8")
    return json.dumps(data).encode("utf-8")


def send_message(connection_id: Any, data: Any) -> None:
    """Send ``data`` to a connection with the stock boto3 client (one PostToConnection call).

    ``data``: ``bytes`` are sent as they are, ``str`` as UTF-8, anything else as
    ``json.dumps(data)``. Errors are botocore ``ClientError``s with API Gateway's codes; a gone
    connection raises :class:`ZappaGoneError`, also a ``wsgate.Gone``. ``connection_id`` may
    also be an event dict (older Zappa releases took the event).
    """
    if isinstance(connection_id, Mapping):
        connection_id = (connection_id.get("requestContext") or {}).get("connectionId")
    if not isinstance(connection_id, str) or not connection_id:
        raise ValueError("send_message needs a connection id (or an event that carries one)")
    payload = _encode(data)
    client = _get_ws_client()
    try:
        client.post_to_connection(ConnectionId=connection_id, Data=payload)
    except Exception as exc:
        response = getattr(exc, "response", None)
        code = response.get("Error", {}).get("Code") if isinstance(response, Mapping) else None
        if code == "GoneException":
            forget(connection_id)
            raise _gone_error(exc, connection_id) from exc
        raise


# -- dispatch ---------------------------------------------------------------------------------
def _call(fn: ZappaHandler, event: Any, context: Any) -> Any:
    """Call ``fn`` with as many of ``(event, context)`` as its signature takes."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # a builtin or C callable: give it both
        return fn(event, context)
    for args in ((event, context), (event,), ()):
        try:
            signature.bind(*args)
        except TypeError:
            continue
        return fn(*args)
    raise TypeError(
        f"{getattr(fn, '__qualname__', fn)!r} cannot be called with (event, context), (event) "
        "or (); a WebSocket handler takes at most two arguments"
    )


def _set_environment(request_context: Mapping[str, Any]) -> None:
    """Zappa's per-event environment, plus the management endpoint it implies."""
    domain = request_context.get("domainName")
    stage = request_context.get("stage")
    if isinstance(domain, str) and domain:
        os.environ[ENV_REQUEST_DOMAIN_NAME] = domain
    if isinstance(stage, str) and stage:
        os.environ[ENV_STAGE] = stage
    # An event with no domain name (a hand-made test event) has no endpoint to point at.
    with contextlib.suppress(ConfigurationError):
        os.environ[ENV_MANAGEMENT_ENDPOINT] = _management_endpoint()


def _import_handler_module(module: str | None) -> None:
    """Import the module whose decorators fill the registry (once; nothing to do if filled)."""
    if _registry or not module:
        return
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module and not module.startswith(f"{exc.name}."):
            raise  # the module exists but imports something missing: show that
        raise ConfigurationError(
            f"no Zappa-style handlers are registered and module {module!r} does not exist; "
            f"set {ENV_HANDLER_MODULE} to the module that uses the decorators "
            "(Zappa's websocket_handler_module)"
        ) from exc


def dispatch_websocket(event: Mapping[str, Any], context: Any) -> Any:
    """Run the registered handler for one WebSocket event and return its result unchanged."""
    request_context = event["requestContext"]
    _set_environment(request_context)
    validate_registry()
    route_key = request_context.get("routeKey") or DEFAULT
    fn = _registry.get(DISCONNECT) if route_key == DISCONNECT else get_handler(route_key)
    connection_id = request_context.get("connectionId")
    stored = route_key == CONNECT and remember(event, connection_id)
    try:
        result = None if fn is None else _call(fn, event, context)
    except BaseException:
        if stored:
            forget(connection_id)
        raise
    finally:
        if route_key == DISCONNECT:
            forget(connection_id)
    if result is None:
        return {"statusCode": 200}
    if stored and isinstance(result, Mapping) and not _accepted(result):
        forget(connection_id)
    return result


def _accepted(result: Mapping[str, Any]) -> bool:
    try:
        return 200 <= int(result.get("statusCode", 200)) < 300
    except (TypeError, ValueError):
        return False


def handler(event: Mapping[str, Any], context: Any = None) -> Any:
    """The Lambda handler: ``wsgate.compat.zappa.handler``."""
    if fanout.is_shard(event):  # a publish fanned out by this function (wsgate.fanout)
        return fanout.handle_shard(event, context)
    if is_websocket_event(event):
        _import_handler_module(os.environ.get(ENV_HANDLER_MODULE, "app"))
        return dispatch_websocket(event, context)
    return _zappa_http.handle(event, context, os.environ.get(_zappa_http.ENV_APP_FUNCTION))


#: Zappa's generated handler is named ``lambda_handler``; both names work.
lambda_handler = handler


def _reset() -> None:
    """Forget every registration and cached client (tests load several apps in one process)."""
    global _validated, _ws_client, _ws_client_endpoint
    _registry.clear()
    _validated = False
    _ws_client = None
    _ws_client_endpoint = None
    _zappa_http.reset()
