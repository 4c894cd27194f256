"""API Gateway WebSocket events, built the way API Gateway builds them. Pure functions, no I/O.

The shapes follow real captures (``tests/events/``, origins in its PROVENANCE.md): key order,
which keys appear on which event type, id formats and time formats. Callers pass in everything that
varies (time, ids, headers), so the functions are deterministic and easy to test.
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

#: Handshake headers API Gateway drops before the $connect integration (kept for the authorizer).
HOP_HEADERS = frozenset({"connection", "upgrade", "content-length"})


def new_id() -> str:
    """A fresh id in API Gateway's format: 16 URL-safe base64 characters ending in ``=``."""
    return base64.urlsafe_b64encode(os.urandom(11)).decode("ascii")


def now_ms() -> int:
    """The current time in epoch milliseconds, the unit of ``connectedAt``/``requestTimeEpoch``."""
    return time.time_ns() // 1_000_000


def clf_time(epoch_ms: int) -> str:
    """``requestTime`` in Common Log Format, always UTC: ``11/Nov/2024:11:35:24 +0000``."""
    t = time.gmtime(epoch_ms // 1000)
    return (
        f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"
    )


def trace_id(epoch_ms: int) -> str:
    """An X-Ray trace header value like the one API Gateway adds to $connect."""
    return f"Root=1-{epoch_ms // 1000:08x}-{os.urandom(12).hex()}"


@dataclass
class ConnectionInfo:
    """What API Gateway remembers about one connection and repeats in each of its events."""

    connection_id: str
    connected_at: int
    source_ip: str
    domain_name: str
    stage: str
    api_id: str
    user_agent: str | None = None
    authorizer: dict[str, Any] | None = None
    extra_identity: dict[str, Any] = field(default_factory=dict)

    def identity(self) -> dict[str, Any]:
        """``requestContext.identity``: userAgent only when the client sent one, and API key
        fields before ``sourceIp`` (the order of the captures in ``tests/events``)."""
        ident: dict[str, Any] = {}
        if self.user_agent is not None:
            ident["userAgent"] = self.user_agent
        ident.update(self.extra_identity)
        ident["sourceIp"] = self.source_ip
        return ident


def header_maps(
    raw_headers: Iterable[tuple[str, str]],
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """``headers`` (last value wins) and ``multiValueHeaders``, sorted case-insensitively."""
    multi: dict[str, list[str]] = {}
    canonical: dict[str, str] = {}
    for name, value in raw_headers:
        key = canonical.setdefault(name.lower(), name)
        multi.setdefault(key, []).append(value)
    ordered = sorted(multi, key=str.lower)
    return {k: multi[k][-1] for k in ordered}, {k: multi[k] for k in ordered}


def query_maps(
    query: Iterable[tuple[str, str]],
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """``queryStringParameters`` (last value wins) and its multi-value twin."""
    multi: dict[str, list[str]] = {}
    for name, value in query:
        multi.setdefault(name, []).append(value)
    return {k: v[-1] for k, v in multi.items()}, multi


def connect_headers(
    raw_headers: Iterable[tuple[str, str]], *, source_ip: str, port: int, proto: str, epoch_ms: int
) -> list[tuple[str, str]]:
    """The handshake headers as API Gateway forwards them: hop headers out, X-Forwarded-* in."""
    added = {"x-amzn-trace-id", "x-forwarded-for", "x-forwarded-port", "x-forwarded-proto"}
    kept = [(k, v) for k, v in raw_headers if k.lower() not in added]
    return [
        *kept,
        ("X-Amzn-Trace-Id", trace_id(epoch_ms)),
        ("X-Forwarded-For", source_ip),
        ("X-Forwarded-Port", str(port)),
        ("X-Forwarded-Proto", proto),
    ]


def _request_context(
    conn: ConnectionInfo,
    *,
    route_key: str,
    event_type: str,
    request_id: str,
    request_ms: int,
    message_id: str | None = None,
    disconnect: tuple[int, str] | None = None,
    with_authorizer: bool = True,
) -> dict[str, Any]:
    ctx: dict[str, Any] = {"routeKey": route_key}
    if message_id is not None:
        ctx["messageId"] = message_id
    if disconnect is not None:
        ctx["disconnectStatusCode"] = disconnect[0]
    if with_authorizer and conn.authorizer is not None:
        ctx["authorizer"] = dict(conn.authorizer)
    ctx["eventType"] = event_type
    ctx["extendedRequestId"] = request_id
    ctx["requestTime"] = clf_time(request_ms)
    ctx["messageDirection"] = "IN"
    if disconnect is not None:
        ctx["disconnectReason"] = disconnect[1]
    ctx["stage"] = conn.stage
    ctx["connectedAt"] = conn.connected_at
    ctx["requestTimeEpoch"] = request_ms
    ctx["identity"] = conn.identity()
    ctx["requestId"] = request_id
    ctx["domainName"] = conn.domain_name
    ctx["connectionId"] = conn.connection_id
    ctx["apiId"] = conn.api_id
    return ctx


def connect_event(
    conn: ConnectionInfo,
    headers: Iterable[tuple[str, str]],
    query: Iterable[tuple[str, str]] = (),
    *,
    request_id: str | None = None,
    request_ms: int | None = None,
) -> dict[str, Any]:
    """The $connect proxy event. ``headers`` are those the integration sees (see
    :func:`connect_headers`); hop headers are removed here too. Query maps only with a query."""
    forwarded = [(k, v) for k, v in headers if k.lower() not in HOP_HEADERS]
    single, multi = header_maps(forwarded)
    event: dict[str, Any] = {"headers": single, "multiValueHeaders": multi}
    query = list(query)
    if query:
        qs, mqs = query_maps(query)
        event["queryStringParameters"] = qs
        event["multiValueQueryStringParameters"] = mqs
    rid = request_id or new_id()
    event["requestContext"] = _request_context(
        conn,
        route_key="$connect",
        event_type="CONNECT",
        request_id=rid,
        request_ms=request_ms if request_ms is not None else now_ms(),
    )
    event["isBase64Encoded"] = False
    return event


def message_event(
    conn: ConnectionInfo,
    route_key: str,
    body: str,
    *,
    request_id: str | None = None,
    message_id: str | None = None,
    request_ms: int | None = None,
) -> dict[str, Any]:
    """A MESSAGE proxy event: no headers, ``messageId`` present, the whole message as ``body``."""
    return {
        "requestContext": _request_context(
            conn,
            route_key=route_key,
            event_type="MESSAGE",
            request_id=request_id or new_id(),
            request_ms=request_ms if request_ms is not None else now_ms(),
            message_id=message_id or new_id(),
        ),
        "body": body,
        "isBase64Encoded": False,
    }


def disconnect_event(
    conn: ConnectionInfo,
    status_code: int,
    reason: str,
    *,
    request_id: str | None = None,
    request_ms: int | None = None,
) -> dict[str, Any]:
    """The $disconnect proxy event with API Gateway's fixed four-header set."""
    headers = {"Host": conn.domain_name, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""}
    return {
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "requestContext": _request_context(
            conn,
            route_key="$disconnect",
            event_type="DISCONNECT",
            request_id=request_id or new_id(),
            request_ms=request_ms if request_ms is not None else now_ms(),
            disconnect=(status_code, reason),
        ),
        "isBase64Encoded": False,
    }


def method_arn(region: str, account: str, api_id: str, stage: str) -> str:
    """The ARN a REQUEST authorizer is asked about: ``…:{apiId}/{stage}/$connect``."""
    return f"arn:aws:execute-api:{region}:{account}:{api_id}/{stage}/$connect"


def authorizer_event(
    conn: ConnectionInfo,
    raw_headers: Iterable[tuple[str, str]],
    query: Iterable[tuple[str, str]],
    *,
    arn: str,
    request_id: str,
    request_ms: int,
    stage_variables: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The REQUEST authorizer input: every handshake header (hop headers included), the three
    maps always present, no ``isBase64Encoded``, and a request context without ``authorizer``."""
    raw = list(raw_headers)
    if not any(k.lower() == "content-length" for k, _ in raw):
        raw.append(("content-length", "0"))
    single, multi = header_maps(raw)
    qs, mqs = query_maps(query)
    return {
        "type": "REQUEST",
        "methodArn": arn,
        "headers": single,
        "multiValueHeaders": multi,
        "queryStringParameters": qs,
        "multiValueQueryStringParameters": mqs,
        "stageVariables": dict(stage_variables or {}),
        "requestContext": _request_context(
            conn,
            route_key="$connect",
            event_type="CONNECT",
            request_id=request_id,
            request_ms=request_ms,
            with_authorizer=False,
        ),
    }
