"""What API Gateway does with a Lambda proxy integration's return value. Pure, no I/O."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .limits import MAX_MESSAGE_BYTES


@dataclass(frozen=True)
class ConnectResult:
    """The handshake answer: ``status`` (2xx opens the socket) and the one header passed back."""

    status: int
    subprotocol: str | None = None


def connect_result(result: Any) -> ConnectResult | None:
    """Read a $connect integration's return value; None when it is malformed (→ 502).

    A missing return value or ``statusCode`` counts as 200. Of the returned headers only
    ``Sec-WebSocket-Protocol`` reaches the client; the body never does.
    """
    if not isinstance(result, dict):
        return ConnectResult(200)
    raw = result.get("statusCode", 200)
    if isinstance(raw, bool):
        return None
    try:
        status = int(raw)
    except (TypeError, ValueError):
        return None
    if not 100 <= status <= 599:
        return None
    protocol = None
    for source in (result.get("headers"), result.get("multiValueHeaders")):
        if isinstance(source, dict):
            for name, value in source.items():
                if str(name).lower() == "sec-websocket-protocol":
                    protocol = value[0] if isinstance(value, list) and value else value
    return ConnectResult(status, str(protocol) if protocol not in (None, "") else None)


def reply_body(result: Any) -> str | None:
    """The frame a two-way route sends back: the proxy result's ``body`` whatever its
    ``statusCode``; nothing when there is no body."""
    if result is None:
        return None
    if isinstance(result, dict):
        if "statusCode" not in result and "body" not in result:
            return json.dumps(result)
        body = result.get("body")
        if body is None or body == "":
            return None
        return body if isinstance(body, str) else json.dumps(body)
    if isinstance(result, str):
        return result or None
    return json.dumps(result)


def reply_too_large(reply: str) -> bool:
    """True when a two-way reply is over the 128 KB message limit, which applies to messages
    in both directions ("Message payload size", API Gateway quotas for WebSocket APIs): API
    Gateway does not deliver it."""
    return len(reply.encode("utf-8")) > MAX_MESSAGE_BYTES
