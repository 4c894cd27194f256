"""``WebSocketHandler``: the class form of an app, for handlers that share state and helpers.

Subclass it, override ``on_connect``, ``on_disconnect``, ``on_message`` (messages whose route has no
handler of its own) and ``on_error``, and mark other methods with ``@handles("key")``: the class
form's marker, where the decorator form registers functions with ``App.route("key")``. The instance
is the Lambda handler: ``handler = Chat()`` or ``handler = Chat.handler`` (one shared instance per
container). Dispatch, middleware, error frames and the connection store behave exactly as in
:class:`~wsgate.app.App`, which each instance builds and delegates to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

from .app import App, describe
from .errors import RegistrationError
from .events import Event

F = TypeVar("F", bound=Callable[..., Any])
S = TypeVar("S", bound="WebSocketHandler")

_ROUTE_ATTR = "__wsgate_routes__"


def handles(key: str) -> Callable[[F], F]:
    """Mark a ``WebSocketHandler`` method as the handler of the custom route ``key``.

    (``App.route(key)`` is the decorator form's registration; this only marks the method, and the
    class registers it when an instance is made.)
    """
    if not isinstance(key, str) or not key:
        raise RegistrationError(f"a route key must be a non-empty string, got {key!r}")

    def decorator(fn: F) -> F:
        keys: list[str] = list(getattr(fn, _ROUTE_ATTR, ()))
        keys.append(key)
        setattr(fn, _ROUTE_ATTR, tuple(keys))
        return fn

    return decorator


class _SharedInstance:
    """``Cls.handler``: the one instance of ``Cls`` per container, created on first use."""

    def __get__(self, obj: object, owner: type[S]) -> S:
        instance = owner.__dict__.get("_wsgate_instance")
        if instance is None:
            instance = owner()
            owner._wsgate_instance = instance
        return instance


class WebSocketHandler:
    """Base class of a WebSocket app written as a class; instances are Lambda handlers.

    (Named after the class form of Tornado and Starlette's WebSocket endpoints: it handles the
    events of an API, it does not serve a network socket.)
    """

    #: ``Cls.handler`` is the container's shared instance (for ``handler = Chat.handler``).
    handler: ClassVar[Any] = _SharedInstance()
    _wsgate_instance: ClassVar[Any] = None
    #: Route key -> method name, collected from ``@handles`` marks when the class is defined.
    _wsgate_routes: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        routes: dict[str, str] = {}
        for base in reversed(cls.__mro__[1:]):
            routes.update(getattr(base, "_wsgate_routes", {}))
        seen: dict[str, str] = {}
        for name, member in vars(cls).items():
            for key in getattr(member, _ROUTE_ATTR, ()):
                if key in seen:
                    raise RegistrationError(
                        f"route {key!r} is marked on both {cls.__qualname__}.{seen[key]} and "
                        f"{cls.__qualname__}.{name}; keep one"
                    )
                seen[key] = name
                routes[key] = name
        cls._wsgate_routes = routes
        cls._wsgate_instance = None

    def __init__(self) -> None:
        self.app = App()
        base = WebSocketHandler
        cls = type(self)
        if cls.on_connect is not base.on_connect:
            self.app.connect(self.on_connect)
        if cls.on_disconnect is not base.on_disconnect:
            self.app.disconnect(self.on_disconnect)
        if cls.on_message is not base.on_message:
            self.app.default(self.on_message)
        if cls.on_error is not base.on_error:
            self.app.on_error(Exception)(self.on_error)
        for key, name in cls._wsgate_routes.items():
            method = getattr(self, name)
            if key in self.app.routes:
                raise RegistrationError(
                    f"route {key!r} is both a lifecycle method and {describe(method)}; keep one"
                )
            self.app.route(key)(method)

    def __call__(self, event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
        """The Lambda handler."""
        return self.app(event, context)

    # -- overridable handlers -------------------------------------------------------------------
    def on_connect(self, event: Event) -> Any:
        """A client is connecting; return a non-2xx ``Response`` to refuse it."""
        return None

    def on_disconnect(self, event: Event) -> Any:
        """A connection closed (best effort; the return value goes nowhere)."""
        return None

    def on_message(self, event: Event) -> Any:
        """A message whose route has no ``@handles`` method (the ``$default`` route)."""
        return None

    def on_error(self, event: Event, exc: Exception) -> Any:
        """Override to answer any exception a handler raises; the return value is the reply."""
        raise exc

    # -- helpers ------------------------------------------------------------------------------
    def use(self, middleware: F) -> F:
        """Add middleware ``fn(event, call_next)`` to this instance's app."""
        return self.app.use(middleware)

    def send(self, connection_id: str, data: Any) -> None:
        """``wsgate.send``."""
        from .messaging import send

        send(connection_id, data)

    def broadcast(self, connection_ids: Any, data: Any, **kwargs: Any) -> Any:
        """``wsgate.broadcast``."""
        from .messaging import broadcast

        return broadcast(connection_ids, data, **kwargs)

    @property
    def rooms(self) -> Any:
        """``wsgate.rooms``."""
        return self.app.rooms

    @property
    def connections(self) -> Any:
        """``wsgate.connections``."""
        return self.app.connections
