"""A typed, read-only view over an API Gateway WebSocket event.

``Event`` wraps the raw dict Lambda receives and computes each property on first use, so
dispatch costs one object and no copying. It accepts every shape API Gateway sends (CONNECT,
MESSAGE, DISCONNECT and the REQUEST authorizer input) and tolerates what SDK fixtures add:
``null`` placeholders, REST-only keys and missing maps. A value the event does not carry is
``None``, never ``""``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from functools import cached_property
from typing import Any

from . import _json, messaging
from .errors import BadRequest, ConfigurationError

_EMPTY: Mapping[str, Any] = {}

#: ``eventType`` implied by a lifecycle route key when the event does not say.
_TYPE_OF_ROUTE = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}


class MultiMap(Mapping[str, str]):
    """Case-insensitive, multi-value view of API Gateway's paired maps.

    API Gateway sends ``headers`` (one value per name) next to ``multiValueHeaders`` (every
    value), and the same pair for the query string. ``m["Name"]`` and ``m.get("name")`` give the
    single value (API Gateway's choice when a name repeats); ``m.get_all("name")`` gives them all.
    Nothing is copied until a lookup needs the case-insensitive index, so an unused view is free.
    """

    __slots__ = ("_index", "_multi_raw", "_single_raw")

    def __init__(self, single: Any = None, multi: Any = None) -> None:
        self._single_raw: Mapping[str, Any] = single if isinstance(single, Mapping) else _EMPTY
        self._multi_raw: Mapping[str, Any] = multi if isinstance(multi, Mapping) else _EMPTY
        self._index: dict[str, tuple[str, str | None, list[str]]] | None = None

    def _build(self) -> dict[str, tuple[str, str | None, list[str]]]:
        """lower-case name -> (name as sent, single value, every value)."""
        index: dict[str, tuple[str, str | None, list[str]]] = {}
        for name, values in self._multi_raw.items():
            if isinstance(values, str):
                values = [values]
            elif not isinstance(values, list | tuple):
                continue
            kept = [str(v) for v in values if v is not None]
            if kept:
                key = name.lower()
                known = index.get(key)
                if known is None:
                    index[key] = (name, None, kept)
                else:
                    known[2].extend(kept)
        for name, value in self._single_raw.items():
            if value is None:
                continue
            key = name.lower()
            known = index.get(key)
            index[key] = (known[0] if known else name, str(value), known[2] if known else [])
        self._index = index
        return index

    def __getitem__(self, name: str) -> str:
        value = self._single_raw.get(name)  # the common case: the name as the client spelled it
        if value is not None:
            return str(value)
        entry = (self._index or self._build()).get(name.lower())
        if entry is not None:
            if entry[1] is not None:
                return entry[1]
            if entry[2]:
                return entry[2][-1]
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        """Iterate over the names as the client spelled them."""
        return iter([entry[0] for entry in (self._index or self._build()).values()])

    def __len__(self) -> int:
        return len(self._index or self._build())

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        if self._single_raw.get(name) is not None:
            return True
        if self._index is not None:
            return name.lower() in self._index
        # One question does not need the index: scan the names as sent (lower-casing only
        # those of the right length, as $connect asks this of every handshake).
        wanted, size = name.lower(), len(name)
        for key, value in self._single_raw.items():
            if len(key) == size and value is not None and key.lower() == wanted:
                return True
        for key, values in self._multi_raw.items():
            if len(key) == size and values and key.lower() == wanted:
                return True
        return False

    def get_all(self, name: str) -> list[str]:
        """Every value sent for ``name`` (case-insensitive), in order; ``[]`` when absent."""
        entry = (self._index or self._build()).get(name.lower())
        if entry is None:
            return []
        if entry[2]:
            return list(entry[2])
        return [] if entry[1] is None else [entry[1]]

    def __repr__(self) -> str:
        return f"MultiMap({dict(self.items())!r})"


def _as_int(value: Any) -> int | None:
    """An int from a number or numeric string; ``None`` for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return None


def _as_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _as_map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else _EMPTY


class Event:
    """One API Gateway WebSocket event: typed properties over the raw dict, computed lazily.

    ``event.raw`` is the dict Lambda passed in, unchanged; ``event.lambda_context`` is Lambda's
    context object (``None`` when the event was built by hand).
    """

    __slots__ = ("__dict__", "_context", "_raw", "_rc")

    def __init__(self, raw: Mapping[str, Any], lambda_context: Any = None) -> None:
        self._raw = raw
        self._context = lambda_context
        context = raw.get("requestContext")
        self._rc: Mapping[str, Any] = context if isinstance(context, dict) else _as_map(context)

    def __repr__(self) -> str:
        return (
            f"Event(route_key={self.route_key!r}, connection_id={self.connection_id!r}, "
            f"request_id={self.request_id!r})"
        )

    @property
    def raw(self) -> Mapping[str, Any]:
        """The event dict exactly as Lambda passed it (not copied)."""
        return self._raw

    @property
    def lambda_context(self) -> Any:
        """Lambda's context object (``None`` when the event was built by hand)."""
        return self._context

    # -- identity of the event ---------------------------------------------------------------
    @property
    def connection_id(self) -> str | None:
        """The API Gateway connection id (``None`` if the event has none)."""
        value = self._rc.get("connectionId")
        return value if isinstance(value, str) and value else None

    @property
    def route_key(self) -> str | None:
        """``$connect``, ``$disconnect``, ``$default`` or the custom route API Gateway selected."""
        value = self._rc.get("routeKey")
        return value if isinstance(value, str) and value else None

    @cached_property
    def event_type(self) -> str:
        """``CONNECT``, ``MESSAGE`` or ``DISCONNECT`` (inferred from the route key if absent)."""
        value = self._rc.get("eventType")
        if isinstance(value, str) and value:
            return value
        return _TYPE_OF_ROUTE.get(self.route_key or "", "MESSAGE")

    @property
    def request_id(self) -> str | None:
        """The id API Gateway gave this event; fresh for every event."""
        value = self._rc.get("requestId")
        return value if isinstance(value, str) and value else None

    @property
    def message_id(self) -> str | None:
        """The message id (MESSAGE events only)."""
        return _as_str(self._rc.get("messageId"))

    @property
    def stage(self) -> str | None:
        """The stage name, even when the client came through a custom domain."""
        return _as_str(self._rc.get("stage")) or None

    @property
    def domain_name(self) -> str | None:
        """The host the client connected to: the execute-api host or a custom domain."""
        return _as_str(self._rc.get("domainName")) or None

    @property
    def api_id(self) -> str | None:
        """The API id."""
        return _as_str(self._rc.get("apiId")) or None

    @property
    def connected_at(self) -> int | None:
        """When the connection opened, epoch milliseconds (the same in every event of it)."""
        return _as_int(self._rc.get("connectedAt"))

    @property
    def request_time_epoch(self) -> int | None:
        """When API Gateway received this event, epoch milliseconds."""
        return _as_int(self._rc.get("requestTimeEpoch"))

    @property
    def disconnect_status_code(self) -> int | None:
        """The WebSocket close code (DISCONNECT events only), e.g. 1000, 1001, 1005."""
        return _as_int(self._rc.get("disconnectStatusCode"))

    @property
    def disconnect_reason(self) -> str | None:
        """The close reason (DISCONNECT events only); may be ``""``."""
        return _as_str(self._rc.get("disconnectReason"))

    @property
    def is_connect(self) -> bool:
        return self.route_key == "$connect"

    @property
    def is_disconnect(self) -> bool:
        return self.route_key == "$disconnect"

    # -- who is calling ----------------------------------------------------------------------
    @property
    def identity(self) -> Mapping[str, Any]:
        """``requestContext.identity`` (``sourceIp``, and ``userAgent`` if the client sent one)."""
        return _as_map(self._rc.get("identity"))

    @property
    def source_ip(self) -> str | None:
        return _as_str(self.identity.get("sourceIp"))

    @property
    def user_agent(self) -> str | None:
        return _as_str(self.identity.get("userAgent"))

    @property
    def authorizer(self) -> Mapping[str, Any]:
        """The Lambda authorizer's output (``principalId`` plus its context); ``{}`` if none."""
        return _as_map(self._rc.get("authorizer"))

    @property
    def principal_id(self) -> str | None:
        """The authorizer's ``principalId``, if an authorizer ran on ``$connect``."""
        value = self.authorizer.get("principalId")
        return None if value is None else str(value)

    @property
    def method_arn(self) -> str | None:
        """``methodArn`` of a REQUEST authorizer event."""
        return _as_str(self._raw.get("methodArn"))

    # -- request data ------------------------------------------------------------------------
    @cached_property
    def headers(self) -> MultiMap:
        """Handshake headers (CONNECT; a fixed set on DISCONNECT; empty on MESSAGE)."""
        return MultiMap(self._raw.get("headers"), self._raw.get("multiValueHeaders"))

    @cached_property
    def query(self) -> MultiMap:
        """Query-string parameters of the connect URL (present only on CONNECT)."""
        return MultiMap(
            self._raw.get("queryStringParameters"), self._raw.get("multiValueQueryStringParameters")
        )

    @property
    def stage_variables(self) -> Mapping[str, Any]:
        return _as_map(self._raw.get("stageVariables"))

    @property
    def is_base64_encoded(self) -> bool:
        return self._raw.get("isBase64Encoded") is True

    @cached_property
    def body_bytes(self) -> bytes | None:
        """The message as bytes (base64-decoded when ``isBase64Encoded``); ``None`` if no body."""
        body = self._raw.get("body")
        if body is None:
            return None
        if not isinstance(body, str):
            # A hand-made test event may carry the message as an object; treat it as its JSON.
            body = _json.dumps(body) if isinstance(body, Mapping | list) else str(body)
        if self.is_base64_encoded:
            import base64  # only here: most events carry text, and the import costs a cold start
            import binascii

            try:
                return base64.b64decode(body, validate=False)
            except (binascii.Error, ValueError) as exc:
                raise BadRequest("message body is not valid base64") from exc
        return body.encode("utf-8", "surrogatepass")

    @cached_property
    def body(self) -> str | None:
        """The message text (MESSAGE events); ``None`` when the event carries no body."""
        body = self._raw.get("body")
        if body is None or (isinstance(body, str) and not self.is_base64_encoded):
            return body
        data = self.body_bytes
        return None if data is None else data.decode("utf-8", "replace")

    @cached_property
    def json(self) -> Any:
        """The body parsed as JSON, once; a missing or invalid body raises ``BadRequest``."""
        body = self.body
        if body is None:
            raise BadRequest("the message has no body; send a JSON object")
        try:
            return _json.loads(body)
        except (ValueError, RecursionError) as exc:  # RecursionError: nested too deep
            raise BadRequest("the message is not valid JSON") from exc

    # -- where we run ------------------------------------------------------------------------
    @cached_property
    def region(self) -> str | None:
        """The AWS Region: from the Lambda context's function ARN, else ``AWS_REGION``."""
        arn = getattr(self.lambda_context, "invoked_function_arn", None)
        if isinstance(arn, str):
            parts = arn.split(":")
            if len(parts) > 3 and parts[3]:
                return parts[3]
        return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None

    def send(self, data: Any) -> None:
        """Send ``data`` to this event's connection (``wsgate.send`` with this connection id)."""
        if self.connection_id is None:
            raise ConfigurationError("this event has no connection id to send to")
        messaging.send(self.connection_id, data)
