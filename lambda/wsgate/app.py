"""``App``: the route registry and the Lambda handler that dispatches API Gateway events.

Decorators only register; all work happens when an event arrives. One invocation: ``$connect``
records the connection (when ``WSGATE_TABLE`` is set) and runs the connect handler, whose non-2xx
answer refuses the handshake; a message runs the handler of its route key, else the default handler,
else the caller gets an ``unknown_action`` error frame; ``$disconnect`` runs its handler and then
forgets the connection. A message API Gateway sent to ``$default`` whose body selects a route this
app has a handler for (the route is missing from the module's ``routes``) still runs that handler,
and a warning names the route to add. Client errors become error frames with their code; any other
exception is logged with its traceback and the client only hears ``internal_error``.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from . import logs, messaging, metrics, store, tracing
from ._selection import ACTION_SHOWN, selected_route
from .auth import SUBPROTOCOL_HEADER, choose_subprotocol, parse_subprotocols
from .context import current_event, current_lambda_context
from .errors import (
    Forbidden,
    MessageError,
    RegistrationError,
    Unauthorized,
    UnknownAction,
    WsgateError,
)
from .events import Event
from .fanout import handle_shard, is_shard
from .responses import error_frame, to_proxy
from .rooms import Rooms, rooms
from .store import ConnectionStore, connections

Handler = Callable[[Event], Any]
CallNext = Callable[[Event], Any]
Middleware = Callable[[Event, CallNext], Any]
ErrorHandler = Callable[[Event, Exception], Any]
F = TypeVar("F", bound=Callable[..., Any])

CONNECT = "$connect"
DISCONNECT = "$disconnect"
DEFAULT = "$default"
_RESERVED = frozenset({CONNECT, DISCONNECT, DEFAULT})

#: Errors whose code and public message may be told to the client.
_PUBLIC_ERRORS = (MessageError, Unauthorized, Forbidden)
#: HTTP status a $connect handler's error refuses the handshake with.
_CONNECT_STATUS: tuple[tuple[type[WsgateError], int], ...] = (
    (Unauthorized, 401),
    (Forbidden, 403),
    (MessageError, 400),
)

_log = logging.getLogger("wsgate.app")


def describe(fn: Callable[..., Any]) -> str:
    """``module.qualname`` of a function, for error messages."""
    module = getattr(fn, "__module__", None) or "?"
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
    return f"{module}.{name}"


def _step(middleware: Middleware, call_next: CallNext) -> CallNext:
    def call(event: Event) -> Any:
        return middleware(event, call_next)

    return call


class App:
    """A WebSocket application; the instance is the Lambda handler: ``app(event, context)``.

    >>> app = App()
    >>> @app.route("ping")
    ... def ping(event): return {"type": "pong"}
    """

    def __init__(self) -> None:
        self._routes: dict[str, Handler] = {}
        self._middleware: list[Middleware] = []
        self._error_handlers: dict[type[BaseException], ErrorHandler] = {}
        self._chains: dict[str, CallNext] = {}
        #: Routes already warned about reaching ``$default`` (one warning per route and container).
        self._misrouted: set[str] = set()
        logs.configure()

    # -- registration -------------------------------------------------------------------------
    def _register(self, key: str, fn: Handler) -> None:
        if not callable(fn):
            raise RegistrationError(f"the handler for route {key!r} must be callable, got {fn!r}")
        existing = self._routes.get(key)
        if existing is not None and existing is not fn:
            raise RegistrationError(
                f"route {key!r} already has a handler, {describe(existing)}; "
                f"cannot also register {describe(fn)}. Remove one, or give it another route key."
            )
        self._routes[key] = fn
        self._chains.clear()

    def _set_route(self, key: str, fn: Handler) -> None:
        """Register or replace a handler without the duplicate check (for compatibility layers)."""
        self._routes[key] = fn
        self._chains.clear()

    def connect(self, fn: F) -> F:
        """Register the ``$connect`` handler (its non-2xx ``Response`` refuses the handshake)."""
        self._register(CONNECT, fn)
        return fn

    def disconnect(self, fn: F) -> F:
        """Register the ``$disconnect`` handler (best effort; its return value goes nowhere)."""
        self._register(DISCONNECT, fn)
        return fn

    def default(self, fn: F) -> F:
        """Register the ``$default`` handler: messages whose route key has no handler."""
        self._register(DEFAULT, fn)
        return fn

    def route(self, key: str) -> Callable[[F], F]:
        """Register a handler for the custom route ``key`` (e.g. ``"say"``)."""
        if not isinstance(key, str) or not key:
            raise RegistrationError(f"a route key must be a non-empty string, got {key!r}")
        if key.startswith("$") and key not in _RESERVED:
            raise RegistrationError(
                f"route key {key!r} starts with '$', which API Gateway keeps for "
                "$connect, $disconnect and $default; choose a key without it"
            )

        def decorator(fn: F) -> F:
            self._register(key, fn)
            return fn

        return decorator

    def use(self, middleware: F) -> F:
        """Wrap every handler in ``middleware(event, call_next)``; the first added is outermost."""
        if not callable(middleware):
            raise RegistrationError(f"middleware must be callable, got {middleware!r}")
        self._middleware.append(middleware)
        self._chains.clear()
        return middleware

    def on_error(self, exc_type: type[BaseException]) -> Callable[[F], F]:
        """Handle ``exc_type`` (and subclasses) with ``fn(event, exc)``; its return is the reply.

        The class form's ``on_error`` method is the same thing for ``Exception``.
        """
        if not (isinstance(exc_type, type) and issubclass(exc_type, BaseException)):
            raise RegistrationError(f"on_error needs an exception class, got {exc_type!r}")

        def decorator(fn: F) -> F:
            existing = self._error_handlers.get(exc_type)
            if existing is not None and existing is not fn:
                raise RegistrationError(
                    f"{exc_type.__name__} already has an error handler, {describe(existing)}; "
                    f"cannot also register {describe(fn)}"
                )
            self._error_handlers[exc_type] = fn
            return fn

        return decorator

    def errorhandler(self, exc_type: type[BaseException]) -> Callable[[F], F]:
        """Deprecated name of :meth:`on_error` (removed in 1.0)."""
        warnings.warn(
            "App.errorhandler is deprecated and will be removed in 1.0; use App.on_error",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.on_error(exc_type)

    @property
    def routes(self) -> Mapping[str, Handler]:
        """The registered handlers by route key (read-only view)."""
        return dict(self._routes)

    @property
    def rooms(self) -> Rooms:
        """``wsgate.rooms``: join, leave, members, publish, history."""
        return rooms

    @property
    def connections(self) -> ConnectionStore:
        """``wsgate.connections``: the connection store."""
        return connections

    # -- dispatch -----------------------------------------------------------------------------
    def _chain(self, key: str | None) -> CallNext:
        """The handler for ``key`` wrapped in the middleware (built once, then cached)."""
        if key is None:  # a hand-made event without a route key: treated as unmatched
            return self._chain(DEFAULT)
        chain = self._chains.get(key)
        if chain is None:
            handler = self._routes.get(key)
            if handler is None:
                if key not in (CONNECT, DISCONNECT, DEFAULT):
                    # Unregistered keys share the default chain, so the cache stays bounded.
                    return self._chain(DEFAULT)
                handler = _accept if key != DEFAULT else _unknown
            chain = handler
            for middleware in reversed(self._middleware):
                chain = _step(middleware, chain)
            self._chains[key] = chain
        return chain

    def __call__(self, event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
        """The Lambda handler: dispatch one API Gateway event, return the proxy response."""
        if is_shard(event):  # a publish fanned out (wsgate.fanout)
            return handle_shard(event, context)
        started = time.perf_counter()
        ev = Event(event, context)
        key = ev.route_key
        event_token = current_event.set(ev)
        context_token = current_lambda_context.set(context)
        try:
            if _log.isEnabledFor(logging.DEBUG):
                _log.debug("event received", extra={"event": logs.redact_event(event)})
            if key == CONNECT:
                proxy, error = self._on_connect(ev)
            elif key == DISCONNECT:
                proxy, error = self._on_disconnect(ev)
            else:
                proxy, error = self._on_message(ev)
            logs.invocation(route_key=key, status=proxy["statusCode"], started=started, error=error)
            return proxy
        finally:
            if metrics.has_pending():  # most invocations count nothing, and write no line
                try:
                    metrics.flush(route=key)
                except Exception:
                    _log.exception("metrics could not be written")
            current_lambda_context.reset(context_token)
            current_event.reset(event_token)

    def _route_for(self, ev: Event, key: str | None) -> str | None:
        """The route key whose handler runs: API Gateway's choice (``key``), or, for a
        ``$default`` message, the route its body selects when this app has a handler for it."""
        if key != DEFAULT or len(self._routes) == len(self._routes.keys() & _RESERVED):
            return key  # not a $default message, or the app has no custom routes
        selected = selected_route(ev)
        if not selected or selected in _RESERVED or selected not in self._routes:
            return key
        if selected not in self._misrouted:
            self._misrouted.add(selected)
            _log.warning(
                "route %r has a handler but API Gateway sent its message to $default, so the "
                "route is missing from the API: add %r to the module's routes (handled here "
                "meanwhile; this warning is written once per container)",
                selected,
                selected,
                extra={"missingRoute": selected},
            )
        return selected

    def _invoke(self, ev: Event) -> Any:
        key = ev.route_key
        chain = self._chain(self._route_for(ev, key))
        if tracing.enabled():
            with tracing.subsegment(f"wsgate {key}", route=key or ""):
                return chain(ev)
        return chain(ev)

    def _handle_error(self, ev: Event, exc: Exception) -> tuple[bool, Any]:
        """Run the registered error handler for ``exc``: ``(handled, result)``."""
        if self._error_handlers:
            for cls in type(exc).__mro__:
                handler = self._error_handlers.get(cls)
                if handler is not None:
                    return True, handler(ev, exc)
        return False, None

    def _run(self, ev: Event) -> tuple[dict[str, Any] | None, Exception | None]:
        """Run the handler and build its proxy response: ``(proxy, None)`` or ``(None, exc)``.

        An exception answered by an error handler counts as a reply; a reply that cannot be
        encoded (say, a dict that is not JSON-serialisable) counts as the handler's failure.
        """
        try:
            return to_proxy(self._invoke(ev)), None
        except Exception as exc:
            try:
                handled, result = self._handle_error(ev, exc)
                if handled:
                    return to_proxy(result), None
            except Exception as handler_exc:
                handler_exc.__context__ = exc
                return None, handler_exc
            return None, exc

    def _on_message(self, ev: Event) -> tuple[dict[str, Any], str | None]:
        proxy, exc = self._run(ev)
        if proxy is not None:
            return proxy, None
        if isinstance(exc, _PUBLIC_ERRORS):
            self._send_error(ev, exc.code, exc.public_message)
            status = 404 if isinstance(exc, UnknownAction) else 400
            return {"statusCode": status}, f"{exc.code}: {exc}"
        self._log_crash(ev, exc)
        self._send_error(ev, "internal_error", "Internal error")
        return {"statusCode": 500}, "internal_error"

    def _on_connect(self, ev: Event) -> tuple[dict[str, Any], str | None]:
        try:
            stored = self._store_connection(ev)
        except Exception as store_exc:
            self._log_crash(ev, store_exc)
            return {"statusCode": 500}, "connection not stored"
        proxy, exc = self._run(ev)
        if proxy is not None:
            if not 200 <= proxy["statusCode"] < 300:
                if stored:
                    self._forget_connection(ev)
                return proxy, "connection refused"
            if SUBPROTOCOL_HEADER in ev.headers:
                _echo_subprotocol(ev, proxy)
            return proxy, None
        if stored:
            self._forget_connection(ev)
        for cls, status in _CONNECT_STATUS:
            if isinstance(exc, cls):
                return {"statusCode": status}, f"{exc.code}: {exc}"
        self._log_crash(ev, exc)
        return {"statusCode": 500}, "internal_error"

    def _on_disconnect(self, ev: Event) -> tuple[dict[str, Any], str | None]:
        try:
            proxy, exc = self._run(ev)
        finally:
            self._forget_connection(ev)
        if proxy is not None:
            return proxy, None
        self._log_crash(ev, exc)
        return {"statusCode": 500}, "internal_error"

    # -- helpers ------------------------------------------------------------------------------
    def _store_connection(self, ev: Event) -> bool:
        """Record the connection before the connect handler runs (when a table is set)."""
        if ev.connection_id is None or not store.table_configured():
            return False
        connections.put(
            ev.connection_id,
            connected_at=ev.connected_at,
            identity=dict(ev.identity),
            principal=ev.principal_id,
        )
        return True

    def _forget_connection(self, ev: Event) -> None:
        """Delete the connection and its memberships; a failure is logged, never raised."""
        if ev.connection_id is None or not store.table_configured():
            return
        try:
            connections.delete(ev.connection_id)
        except Exception:
            _log.exception("could not remove connection %s from the table", ev.connection_id)

    def _send_error(self, ev: Event, code: str, message: str) -> None:
        """Send an error frame to the caller; a failure to send is logged, never raised."""
        if not ev.connection_id:
            return
        frame = error_frame(code, message, ev.request_id)
        try:
            messaging.send(ev.connection_id, frame)
        except Exception:
            _log.warning(
                "error frame %s not delivered to %s", code, ev.connection_id, exc_info=True
            )

    @staticmethod
    def _log_crash(ev: Event, exc: BaseException | None) -> None:
        if exc is None:  # pragma: no cover - _run returns a proxy or an exception
            return
        _log.error(
            "unhandled %s in the %s handler (request %s)",
            type(exc).__name__,
            ev.route_key,
            ev.request_id,
            exc_info=(type(exc), exc, exc.__traceback__),
        )


def _echo_subprotocol(ev: Event, proxy: dict[str, Any]) -> None:
    """Accept one of the client's subprotocols unless the handler chose one.

    A browser that offered subprotocols fails the handshake when none comes back, and API
    Gateway does not answer for the integration. A token sent as a subprotocol is echoed only
    when it is the only entry offered (the browser needs one back; offer ``bearer`` too).
    """
    headers = proxy.get("headers") or {}
    if any(name.lower() == "sec-websocket-protocol" for name in headers):
        return
    chosen = choose_subprotocol(parse_subprotocols(ev.headers))
    if chosen:
        proxy["headers"] = {**headers, "Sec-WebSocket-Protocol": chosen}


def _accept(event: Event) -> None:
    """Stand-in for a missing $connect/$disconnect handler: accept, do nothing."""
    return None


def _unknown(event: Event) -> Any:
    """Stand-in when a route has no handler and there is no default handler.

    The frame names the action the client sent. A message that matched no route arrives as
    ``$default``, so its action is read from the body by the route selection expression, the
    way API Gateway selected the route; when it cannot be known, the frame says "this message".
    """
    action = event.route_key
    if action is None or action == DEFAULT:
        action = selected_route(event)
        if not action:
            raise UnknownAction("this message matches no route and the app has no default handler")
    if len(action) > ACTION_SHOWN:
        action = action[:ACTION_SHOWN] + "..."
    raise UnknownAction(f"no handler for action {action!r}")
