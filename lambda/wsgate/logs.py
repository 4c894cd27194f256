"""JSON log lines through the standard ``logging`` module, with secrets redacted.

Every line is one JSON object (``level``, ``message``, ``logger``, ``timestamp`` and, during an
invocation, ``connectionId``, ``requestId`` and ``routeKey``), which CloudWatch Logs Insights
queries field by field. ``WSGATE_LOG_LEVEL`` sets the level of the ``wsgate`` logger (default
``INFO``). The ``wsgate`` logger propagates as any library's does, so pytest's ``caplog`` and a
user's own logging configuration see its records.

Credentials never reach a log line: :func:`redact_headers`, :func:`redact_query` and
:func:`redact_event` mask whatever the authorizer helper would read as a token and anything else
shaped like a credential (see ``wsgate._credentials``). Message bodies are left out of logged
events unless ``WSGATE_LOG_BODIES`` is ``true``.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Mapping
from contextvars import ContextVar
from itertools import islice
from typing import Any

from . import _json
from ._credentials import (
    is_credential_name,
    is_credential_value,
    looks_like_token,
    token_from_subprotocols,
)
from .context import current_event

LOGGER_NAME = "wsgate"
REDACTED = "[REDACTED]"
ENV_LOG_BODIES = "WSGATE_LOG_BODIES"

#: Header names always treated as credentials (others are judged by their shape too).
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "x-api-key", "x-amz-security-token"}
)
#: Query parameter names always treated as credentials (others are judged by their shape too).
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

#: Fields of the invocation being handled, added to every line logged during it.
_fields: ContextVar[dict[str, Any] | None] = ContextVar("wsgate_log_fields", default=None)

logger = logging.getLogger(LOGGER_NAME)

_BLANK_RECORD = logging.LogRecord("", 0, "", 0, "", (), None)
_STANDARD_ATTRS = frozenset(_BLANK_RECORD.__dict__.keys() | {"message", "asctime"})
#: How many attributes ``LogRecord.__init__`` sets: ``makeRecord`` adds the ``extra`` ones after
#: these, so the formatter looks for fields only past them.
_OWN_ATTRS = len(_BLANK_RECORD.__dict__)
del _BLANK_RECORD


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object; ``extra={...}`` keys become fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": round(record.created * 1000),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        ids = invocation_fields()
        if ids is not None:
            line.update(ids)
        # The ``extra`` fields, in the order given. They follow the record's own attributes
        # (skipped without a look at each); what a filter or another formatter added after
        # them is told apart by name.
        attrs = record.__dict__
        for key in islice(attrs, _OWN_ATTRS, None):
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                line[key] = attrs[key]
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        try:
            return _json.dumps(line)
        except (TypeError, ValueError):
            return _json.dumps({k: repr(v) for k, v in line.items()})


def invocation_fields() -> dict[str, Any] | None:
    """The ids of the invocation being handled: those :func:`bind` set, else the current event's."""
    bound = _fields.get()
    if bound is not None:
        return bound
    event = current_event.get()
    if event is None:
        return None
    return {
        "connectionId": event.connection_id,
        "requestId": event.request_id,
        "routeKey": event.route_key,
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

    def emit(self, record: logging.LogRecord) -> None:
        # StreamHandler.emit less its second lock round and stream lookups: once per event.
        try:
            out = sys.stdout
            out.write(self.format(record) + self.terminator)
            out.flush()
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)


class _MarkWritten(logging.Filter):
    """On wsgate's handler: mark each record it writes (see :class:`_SkipWritten`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record._wsgate_written = True
        return True


class _SkipWritten(logging.Filter):
    """On the Lambda runtime's own root handler: drop the records wsgate's handler wrote."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(record, "_wsgate_written", False)


def _is_lambda_runtime_handler(handler: logging.Handler) -> bool:
    # The Python runtime's bootstrap (awslambdaric) puts a ``LambdaLoggerHandler`` (or
    # ``LambdaLoggerHandlerWithFrameType``) on the root logger before the function is imported.
    return type(handler).__name__.startswith("LambdaLoggerHandler")


def configure(stream: Any = None) -> logging.Logger:
    """Give the ``wsgate`` logger a JSON handler on stdout (once) and the level from the env.

    Called by ``App`` when it is created. Lambda sends stdout to CloudWatch Logs. The logger keeps
    propagating, so other handlers (pytest's ``caplog``, a user's ``logging.basicConfig``) get
    the records too; only the Lambda runtime's own root handler, which would print each line a
    second time in its text format, is told to skip the lines written here. A user who wants
    their own handlers only removes this one: ``logging.getLogger("wsgate").handlers.clear()``.
    ``WSGATE_LOG_LEVEL``, when set, always applies; otherwise a level set in code is kept.
    """
    first = not any(getattr(h, "_wsgate", False) for h in logger.handlers)
    if first:
        handler = logging.StreamHandler(stream) if stream is not None else _StdoutHandler()
        handler.setFormatter(JsonFormatter())
        handler._wsgate = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    for root_handler in logging.getLogger().handlers:
        if _is_lambda_runtime_handler(root_handler) and not any(
            isinstance(f, _SkipWritten) for f in root_handler.filters
        ):
            root_handler.addFilter(_SkipWritten())
            for ours in logger.handlers:
                if getattr(ours, "_wsgate", False) and not ours.filters:
                    ours.addFilter(_MarkWritten())
    if (first and logger.level == logging.NOTSET) or os.environ.get("WSGATE_LOG_LEVEL"):
        logger.setLevel(level_from_env())
    return logger


def bind(**fields: Any) -> Any:
    """Add fields to every line logged until :func:`unbind` is called with the returned token."""
    return _fields.set(fields)


def unbind(token: Any) -> None:
    """Drop the fields set by :func:`bind`."""
    _fields.reset(token)


def invocation(
    *, route_key: str | None, status: int, started: float, error: str | None = None, **extra: Any
) -> None:
    """Log the one summary line of an invocation (``durationMs`` from ``started``).

    ERROR for a 5xx status, INFO otherwise; ``extra`` keys become fields of the line.
    """
    level = logging.ERROR if status >= 500 else logging.INFO
    if not logger.isEnabledFor(level):
        return
    fields: dict[str, Any] = {
        "statusCode": status,
        "durationMs": round((time.perf_counter() - started) * 1000, 3),
        **extra,
    }
    if error:
        fields["error"] = error
    # makeRecord + handle is what Logger.log does, less the caller lookup this line never shows.
    message = f"{route_key or 'event'} handled"
    record = logger.makeRecord(LOGGER_NAME, level, __file__, 0, message, (), None, None, fields)
    logger.handle(record)


# -- redaction ---------------------------------------------------------------------------------
def _mask(value: Any) -> Any:
    return [REDACTED] * len(value) if isinstance(value, list) else REDACTED


def redact_subprotocols(value: str) -> str:
    """Mask the token entries of a ``Sec-WebSocket-Protocol`` list, keep protocol names.

    The entry the authorizer helper would take as the token (the one after ``bearer``, however
    short) is masked, and so is any entry shaped like a token.
    """
    items = [item.strip() for item in value.split(",")]
    token = token_from_subprotocols([item for item in items if item])
    return ", ".join(
        REDACTED if item == token or looks_like_token(item) else item for item in items
    )


def _secret_value(value: Any) -> bool:
    if isinstance(value, list):
        return any(isinstance(v, str) and is_credential_value(v) for v in value)
    return isinstance(value, str) and is_credential_value(value)


def _redact_header(name: str, value: Any) -> Any:
    key = name.lower()
    if key == _SUBPROTOCOL:
        if isinstance(value, list):
            return [redact_subprotocols(str(v)) for v in value]
        return redact_subprotocols(str(value))
    if key in SECRET_HEADERS or is_credential_name(name) or _secret_value(value):
        return _mask(value)
    return value


def redact_headers(headers: Mapping[str, Any] | None) -> dict[str, Any]:
    """A copy of ``headers`` (single- or multi-value) with credentials masked."""
    if not headers:
        return {}
    return {name: _redact_header(name, value) for name, value in headers.items()}


def redact_query(query: Mapping[str, Any] | None) -> dict[str, Any]:
    """A copy of query parameters with credential-like parameters masked."""
    if not query:
        return {}
    return {
        name: _mask(value)
        if name.lower() in SECRET_QUERY or is_credential_name(name) or _secret_value(value)
        else value
        for name, value in query.items()
    }


def bodies_logged() -> bool:
    """Whether the user opted in to message bodies in logged events (``WSGATE_LOG_BODIES``)."""
    return os.environ.get(ENV_LOG_BODIES, "").strip().lower() in {"1", "true", "yes", "on"}


def redact_event(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A shallow copy of an API Gateway event that is safe to log.

    Credentials are masked; the body is replaced by its length unless bodies are opted in.
    """
    out = dict(raw)
    for key in ("headers", "multiValueHeaders"):
        if isinstance(out.get(key), Mapping):
            out[key] = redact_headers(out[key])
    for key in ("queryStringParameters", "multiValueQueryStringParameters"):
        if isinstance(out.get(key), Mapping):
            out[key] = redact_query(out[key])
    body = out.get("body")
    if body is not None and not bodies_logged():
        size = len(body) if isinstance(body, str | bytes) else len(_json.dumps(body))
        out["body"] = f"[{size} characters not logged; set {ENV_LOG_BODIES}=true to log bodies]"
    return out
