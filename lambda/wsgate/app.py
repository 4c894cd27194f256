"""``App``: the route registry and the Lambda handler that dispatches API Gateway events.

Decorators only register; all work happens when an event arrives. One invocation:
``$connect`` records the connection (when ``WSGATE_TABLE`` is set) and runs the connect handler,
whose non-2xx answer refuses the handshake; a message runs the handler of its route key, else the
default handler, else the caller gets an ``unknown_action`` error frame; ``$disconnect`` runs its
handler and then forgets the connection. Client errors become error frames with their code; any
other exception is logged with its traceback and the client only hears ``internal_error``.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Mapping

from . import logs, tracing
from .context import current_event, current_lambda_context
from .errors import (
    ClientError,
    Forbidden,
    RegistrationError,
    Unauthorized,
    UnknownAction,
    WsgateError,
)
from .events import Event
from .responses import error_frame, to_proxy

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time
if TYPE_CHECKING:
    from typing import Any, TypeVar

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
_PUBLIC_ERRORS = (ClientError, Unauthorized, Forbidden)
#: HTTP status a $connect handler's error refuses the handshake with.
_CONNECT_STATUS: tuple[tuple[type[WsgateError], int], ...] = (
    (Unauthorized, 401),
    (Forbidden, 403),
    (ClientError, 400),
)

_log = logging.getLogger("wsgate.app")
_modules = sys.modules
_wsgate_log = logs.logger
_DEBUG = logging.DEBUG
_INFO = logging.INFO


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

    def errorhandler(self, exc_type: type[BaseException]) -> Callable[[F], F]:
        """Handle ``exc_type`` (and subclasses) with ``fn(event, exc)``; its return is the reply."""
        if not (isinstance(exc_type, type) and issubclass(exc_type, BaseException)):
            raise RegistrationError(f"errorhandler needs an exception class, got {exc_type!r}")

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

    @property
    def routes(self) -> Mapping[str, Handler]:
        """The registered handlers by route key (read-only view)."""
        return dict(self._routes)

    @property
    def rooms(self) -> Any:
        """``wsgate.rooms``: join, leave, members, publish, history."""
        return sys.modules[__package__ or "wsgate"].rooms

    @property
    def connections(self) -> Any:
        """``wsgate.connections``: the connection store."""
        return sys.modules[__package__ or "wsgate"].connections

    # -- dispatch -----------------------------------------------------------------------------
    def _chain(self, key: str) -> CallNext:
        """The handler for ``key`` wrapped in the middleware (built once, then cached)."""
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
        started = time.perf_counter()
        ev = Event(event, context)
        key = ev.route_key
        event_token = current_event.set(event)
        context_token = current_lambda_context.set(context)
        error: str | None = None
        try:
            if _log.isEnabledFor(_DEBUG):
                _log.debug("event received", extra={"event": logs.redact_event(event)})
            if key == CONNECT:
                proxy, error = self._on_connect(ev)
            elif key == DISCONNECT:
                proxy, error = self._on_disconnect(ev)
            else:
                proxy, error = self._on_message(ev)
            if error or _wsgate_log.isEnabledFor(_INFO):
                logs.summary(key, proxy["statusCode"], started, error)
            return proxy
        finally:
            # Counters exist only once ``wsgate.metrics`` is imported (sending imports it), and
            # most invocations count nothing: then there is nothing to flush and no call.
            metrics = _modules.get("wsgate.metrics")
            if metrics is not None and metrics._counters:
                try:
                    metrics.flush(route=key)
                except Exception:
                    _log.exception("metrics could not be written")
            current_lambda_context.reset(context_token)
            current_event.reset(event_token)

    def _invoke(self, ev: Event) -> Any:
        chain = self._chain(ev.route_key)
        if tracing.enabled():
            with tracing.subsegment(f"wsgate {ev.route_key}", route=ev.route_key):
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
            if _offers_subprotocol(ev.raw.get("headers")):
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
        if not _store_module().table_configured():
            return False
        self.connections.put(
            ev.connection_id,
            connected_at=ev.connected_at,
            identity=dict(ev.identity),
            principal=ev.principal_id,
        )
        return True

    def _forget_connection(self, ev: Event) -> None:
        """Delete the connection and its memberships; a failure is logged, never raised."""
        if not _store_module().table_configured():
            return
        try:
            self.connections.delete(ev.connection_id)
        except Exception:
            _log.exception("could not remove connection %s from the table", ev.connection_id)

    def _send_error(self, ev: Event, code: str, message: str) -> None:
        """Send an error frame to the caller; a failure to send is logged, never raised."""
        if not ev.connection_id:
            return
        frame = error_frame(code, message, ev.request_id)
        try:
            from . import messaging

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


def _offers_subprotocol(headers: Any) -> bool:
    """Whether raw handshake headers carry ``Sec-WebSocket-Protocol`` (without building a view)."""
    if not headers:
        return False
    for name in headers:  # noqa: SIM110 - a plain loop: this runs on every $connect
        if len(name) == 22 and name.lower() == "sec-websocket-protocol":
            return True
    return False


def _echo_subprotocol(ev: Event, proxy: dict[str, Any]) -> None:
    """Accept one of the client's subprotocols unless the handler chose one.

    A browser that offered subprotocols fails the handshake when none comes back, and API
    Gateway does not answer for the integration. A token sent as a subprotocol is echoed only
    when it is the only entry offered (the browser needs one back; offer ``bearer`` too).
    """
    headers = proxy.get("headers") or {}
    if any(name.lower() == "sec-websocket-protocol" for name in headers):
        return
    from .auth import choose_subprotocol, parse_subprotocols

    chosen = choose_subprotocol(parse_subprotocols(ev.headers))
    if chosen:
        proxy["headers"] = {**headers, "Sec-WebSocket-Protocol": chosen}


def _store_module() -> Any:
    """``wsgate.store``, imported on first use (it brings in boto3 helpers) and then kept."""
    module = sys.modules.get("wsgate.store")
    if module is None:
        from . import store as module
    return module


def _accept(event: Event) -> None:
    """Stand-in for a missing $connect/$disconnect handler: accept, do nothing."""
    return None


def _unknown(event: Event) -> Any:
    """Stand-in when a route has no handler and there is no default handler.

    The frame names the action the client sent. A message that matched no route arrives as
    ``$default``, so its action is read from the body by the route selection expression, the
    way API Gateway selected the route; when it cannot be known, the frame says "this message".
    """
    from ._selection import ACTION_SHOWN, selected_route

    action = event.route_key
    if action in ("", DEFAULT):
        action = selected_route(event)
        if not action:
            raise UnknownAction("this message matches no route and the app has no default handler")
    if len(action) > ACTION_SHOWN:
        action = action[:ACTION_SHOWN] + "..."
    raise UnknownAction(f"no handler for action {action!r}")
