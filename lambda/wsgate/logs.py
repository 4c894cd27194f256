"""JSON log lines through the standard ``logging`` module, with secrets redacted.

Every line is one JSON object (``level``, ``message``, ``logger``, ``timestamp`` and, during an
invocation, ``connectionId``, ``requestId`` and ``routeKey``), which CloudWatch Logs Insights
queries field by field. ``WSGATE_LOG_LEVEL`` sets the level of the ``wsgate`` logger (default
``INFO``). Credentials never reach a log line: :func:`redact_headers`, :func:`redact_query` and
:func:`redact_event` mask ``Authorization`` headers, tokens sent as WebSocket subprotocols and
token-like query parameters.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import time
from collections.abc import Mapping
from contextvars import ContextVar
from json.encoder import encode_basestring as _encode_str

from . import _json
from .context import current_event

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time
if TYPE_CHECKING:
    from typing import Any

LOGGER_NAME = "wsgate"
REDACTED = "[REDACTED]"

#: Header names whose values are credentials (compared in lower case).
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "x-api-key", "x-amz-security-token"}
)
#: Query parameter names treated as credentials (compared in lower case).
SECRET_QUERY = frozenset(
    {
        "token",
        "access_token",
        "id_token",
        "auth",
        "authorization",
        "key",
        "api_key",
        "apikey",
        "password",
        "secret",
    }
)
_SUBPROTOCOL = "sec-websocket-protocol"
#: A subprotocol longer than this, or shaped like a JWT, is taken to be a token.
_MAX_PROTOCOL_NAME = 24

#: Fields of the invocation being handled, added to every line logged during it.
_fields: ContextVar[dict[str, Any] | None] = ContextVar("wsgate_log_fields", default=None)

logger = logging.getLogger(LOGGER_NAME)
_INFO = logging.INFO
_ERROR = logging.ERROR

_STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys() | {"message", "asctime"}
)


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object; ``extra={...}`` keys become fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": round(record.created * 1000),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        bound = invocation_fields()
        if bound:
            line.update(bound)
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        try:
            return _json.dumps(line)
        except (TypeError, ValueError):
            return _json.dumps({k: repr(v) for k, v in line.items()})


def invocation_fields() -> dict[str, Any] | None:
    """The ids of the invocation being handled: those :func:`bind` set, else the current event's.

    Reading them from ``wsgate.context.current_event`` (which ``App`` sets anyway) costs the
    dispatch path nothing; they are only looked up when a line is actually written.
    """
    bound = _fields.get()
    if bound is not None:
        return bound
    event = current_event.get()
    if event is None:
        return None
    context = event.get("requestContext")
    if not isinstance(context, Mapping):
        return None
    return {
        "connectionId": context.get("connectionId"),
        "requestId": context.get("requestId"),
        "routeKey": context.get("routeKey"),
    }


def level_from_env(default: str = "INFO") -> int:
    """The level named by ``WSGATE_LOG_LEVEL`` (``DEBUG``, ``INFO``, ``WARNING``, ``ERROR``)."""
    name = (os.environ.get("WSGATE_LOG_LEVEL") or default).strip().upper()
    level = logging.getLevelName(name)
    return level if isinstance(level, int) else logging.INFO


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stdout`` is at the time of each line (it may be replaced)."""

    @property
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def configure(stream: Any = None) -> logging.Logger:
    """Give the ``wsgate`` logger a JSON handler on stdout (once) and the level from the env.

    Called by ``App`` when it is created. Lambda sends stdout to CloudWatch Logs; the logger
    does not propagate, so the runtime's own root handler does not print each line twice.
    ``WSGATE_LOG_LEVEL``, when set, always applies; otherwise a level set in code is kept.
    """
    first = not any(getattr(h, "_wsgate", False) for h in logger.handlers)
    if first:
        handler = logging.StreamHandler(stream) if stream is not None else _StdoutHandler()
        handler.setFormatter(JsonFormatter())
        handler._wsgate = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.propagate = False
    if (first and logger.level == logging.NOTSET) or os.environ.get("WSGATE_LOG_LEVEL"):
        logger.setLevel(level_from_env())
    return logger


def bind(**fields: Any) -> Any:
    """Add fields to every line logged until :func:`unbind` is called with the returned token."""
    return _fields.set(fields)


def bind_invocation(connection_id: str, request_id: str, route_key: str) -> Any:
    """:func:`bind` for the three ids of an invocation, without building keyword arguments."""
    return _fields.set(
        {"connectionId": connection_id, "requestId": request_id, "routeKey": route_key}
    )


def unbind(token: Any) -> None:
    """Drop the fields set by :func:`bind`."""
    _fields.reset(token)


def _is_token(protocol: str) -> bool:
    return len(protocol) > _MAX_PROTOCOL_NAME or protocol.count(".") >= 2


def redact_subprotocols(value: str) -> str:
    """Mask the token-like entries of a ``Sec-WebSocket-Protocol`` list, keep protocol names."""
    items = [item.strip() for item in value.split(",")]
    return ", ".join(REDACTED if _is_token(item) else item for item in items)


def _redact_header(name: str, value: Any) -> Any:
    key = name.lower()
    if key in SECRET_HEADERS:
        return [REDACTED] * len(value) if isinstance(value, list) else REDACTED
    if key == _SUBPROTOCOL:
        if isinstance(value, list):
            return [redact_subprotocols(str(v)) for v in value]
        return redact_subprotocols(str(value))
    return value


def redact_headers(headers: Mapping[str, Any] | None) -> dict[str, Any]:
    """A copy of ``headers`` (single- or multi-value) with credentials masked."""
    if not headers:
        return {}
    return {name: _redact_header(name, value) for name, value in headers.items()}


def redact_query(query: Mapping[str, Any] | None) -> dict[str, Any]:
    """A copy of query parameters with token-like parameters masked."""
    if not query:
        return {}
    out: dict[str, Any] = {}
    for name, value in query.items():
        if name.lower() in SECRET_QUERY:
            out[name] = [REDACTED] * len(value) if isinstance(value, list) else REDACTED
        else:
            out[name] = value
    return out


def redact_event(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A shallow copy of an API Gateway event that is safe to log."""
    out = dict(raw)
    for key in ("headers", "multiValueHeaders"):
        if isinstance(out.get(key), Mapping):
            out[key] = redact_headers(out[key])
    for key in ("queryStringParameters", "multiValueQueryStringParameters"):
        if isinstance(out.get(key), Mapping):
            out[key] = redact_query(out[key])
    return out


def _only_our_handler() -> bool:
    """True when the ``wsgate`` logger writes only through the handler :func:`configure` added."""
    handlers = logger.handlers
    return (
        len(handlers) == 1
        and isinstance(handlers[0], _StdoutHandler)
        and not handlers[0].filters
        and not logger.filters
    )


def invocation(
    *, route_key: str, status: int, started: float, error: str | None = None, **extra: Any
) -> None:
    """Log the one summary line of an invocation (``durationMs`` from ``started``).

    This runs on every event, so when the line would only go to the stdout handler that
    :func:`configure` installed it is written directly, in the formatter's exact format, instead
    of going through ``Logger.log`` (its record and caller lookup cost more than the dispatch).
    Any other handler or filter on the ``wsgate`` logger gets a normal ``LogRecord``.
    """
    level = logging.ERROR if status >= 500 else logging.INFO
    if not logger.isEnabledFor(level):
        return
    elapsed_ms = (time.perf_counter() - started) * 1000
    message = f"{route_key or 'event'} handled"
    if _only_our_handler():
        if not extra and status.__class__ is int and _fields.get() is None:
            line = _fast_invocation_line(level, message, status, elapsed_ms, error)
        else:
            fields = _summary_fields(status, round(elapsed_ms, 3), error, extra)
            line = _invocation_line(level, message, fields)
        out = sys.stdout
        out.write(line)
        out.flush()
        return
    fields = _summary_fields(status, round(elapsed_ms, 3), error, extra)
    record = logger.makeRecord(LOGGER_NAME, level, __file__, 0, message, (), None, extra=fields)
    logger.handle(record)


def summary(route_key: str, status: int, started: float, error: str | None) -> None:
    """:func:`invocation` without keyword arguments or extras: what ``App`` calls per event."""
    if (
        status.__class__ is int
        and logger.isEnabledFor(_ERROR if status >= 500 else _INFO)
        and _fields.get() is None
        and _only_our_handler()
    ):
        elapsed_ms = (time.perf_counter() - started) * 1000
        line = _fast_invocation_line(
            _ERROR if status >= 500 else _INFO,
            f"{route_key or 'event'} handled",
            status,
            elapsed_ms,
            error,
        )
        out = sys.stdout
        out.write(line)
        out.flush()
    else:
        invocation(route_key=route_key, status=status, started=started, error=error)


def _summary_fields(
    status: int, duration: float, error: str | None, extra: dict[str, Any]
) -> dict[str, Any]:
    fields: dict[str, Any] = {"statusCode": status, "durationMs": duration, **extra}
    if error:
        fields["error"] = error
    return fields


#: The constant part of a summary line between the timestamp and the message, by level.
_AFTER_TIMESTAMP = {
    level: f',"level":"{logging.getLevelName(level)}","logger":"{LOGGER_NAME}","message":'
    for level in (logging.INFO, logging.ERROR)
}


def _fast_invocation_line(
    level: int, message: str, status: int, elapsed_ms: float, error: str | None
) -> str:
    """:func:`_invocation_line` for the usual summary (no bound fields, no extras), in one go.

    The same fields and values as the formatter writes; the ids come straight from the current
    event's ``requestContext`` and every string goes through the JSON string encoder.
    ``durationMs`` is written to three decimals, the number ``round(elapsed_ms, 3)`` gives.
    """
    event = current_event.get()
    context = event.get("requestContext") if event is not None else None
    if context is None or not (context.__class__ is dict or isinstance(context, Mapping)):
        ids = ""
    else:
        # Inline rather than through _str_or_value: this runs on every event.
        value = context.get("connectionId")
        cid = _encode_str(value) if value.__class__ is str else _encode_value(value)
        value = context.get("requestId")
        rid = _encode_str(value) if value.__class__ is str else _encode_value(value)
        value = context.get("routeKey")
        key = _encode_str(value) if value.__class__ is str else _encode_value(value)
        ids = f',"connectionId":{cid},"requestId":{rid},"routeKey":{key}'
    tail = f',"error":{_str_or_value(error)}}}\n' if error else "}\n"
    return (
        f'{{"timestamp":{round(time.time() * 1000)}{_AFTER_TIMESTAMP[level]}'
        f'{_encode_str(message)}{ids},"statusCode":{status},"durationMs":{elapsed_ms:.3f}{tail}'
    )


def _str_or_value(value: Any) -> str:
    return _encode_str(value) if value.__class__ is str else _encode_value(value)


def _invocation_line(level: int, message: str, fields: dict[str, Any]) -> str:
    """The formatter's JSON line for an invocation, assembled from pre-encoded parts.

    Equivalent to ``JsonFormatter().format`` for the same record, at a fraction of the cost.
    Keys are nearly always identifiers, which need no JSON escaping; any other key is encoded.
    """
    parts = [
        f'{{"timestamp":{round(time.time() * 1000)},"level":"{logging.getLevelName(level)}",'
        f'"logger":"{LOGGER_NAME}","message":{_encode_str(message)}'
    ]
    bound = invocation_fields()
    if bound:
        parts += [f",{_encode_key(k)}:{_encode_value(v)}" for k, v in bound.items()]
    parts += [f",{_encode_key(k)}:{_encode_value(v)}" for k, v in fields.items()]
    parts.append("}\n")
    return "".join(parts)


def _encode_key(key: str) -> str:
    return f'"{key}"' if key.isidentifier() else _encode_str(key)


def _encode_value(value: Any) -> str:
    """JSON for one value: the common scalar types without a trip through the encoder."""
    cls = value.__class__
    if cls is str:
        return _encode_str(value)
    if value is None:
        return "null"
    if cls is int:
        return str(value)
    if cls is float and math.isfinite(value):
        return repr(value)
    return _json.dumps(value)
