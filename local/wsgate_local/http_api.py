"""The module's optional HTTP API (``http_api = true``), locally, on a port of its own.

Every request becomes an HTTP API payload format 2.0 event for the ``$default`` route of the
``$default`` stage, run by the same workers as the WebSocket events, and the handler's result is
read as API Gateway reads a 2.0 response. The rules, from AWS's "Create AWS Lambda proxy
integrations for HTTP APIs" (developerguide/http-api-develop-integrations-lambda.html):

* headers are lower-cased, duplicates joined with commas; ``Cookie`` headers go to ``cookies``;
  duplicate query parameters are joined with commas in ``queryStringParameters``;
* a body that is not UTF-8 text arrives base64-encoded with ``isBase64Encoded``;
* a result without ``statusCode`` is a 200 ``application/json`` response whose body is the result
  as JSON; ``cookies`` in the result become ``Set-Cookie`` headers;
* a handler error (or a malformed result) is a 500 ``{"message":"Internal Server Error"}``; an
  integration timeout a 503 ``{"message":"Service Unavailable"}``.

The WebSocket port keeps its paths (``/{stage}``, the management API, the static page), so the
HTTP API's paths, all of which belong to the app, cannot collide with them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from typing import Any

from aiohttp import web
from wsgate.apigw.events import clf_time, new_id, now_ms

from .config import GatewayConfig
from .eventlog import EventLog
from .invoker import Invoker

#: HTTP API's maximum payload (10 MB).
MAX_BODY_BYTES = 10 * 1024 * 1024
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/x-www-form-urlencoded")
_INTERNAL_ERROR = (500, {"message": "Internal Server Error"})
_TIMEOUT = (503, {"message": "Service Unavailable"})


def http_event(
    config: GatewayConfig,
    *,
    method: str,
    path: str,
    query: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    source_ip: str,
    host: str,
) -> dict[str, Any]:
    """The payload 2.0 event API Gateway would send for this request."""
    joined: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    joined.setdefault("host", host)
    epoch = now_ms()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": joined,
        "requestContext": {
            "accountId": config.account_id,
            "apiId": config.api_id,
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": joined.get("user-agent", ""),
            },
            "requestId": new_id(),
            "routeKey": "$default",
            "stage": "$default",
            "time": clf_time(epoch),
            "timeEpoch": epoch,
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    params = _query_parameters(query)
    if params:
        event["queryStringParameters"] = params
    if body:
        content_type = joined.get("content-type", "")
        text = _as_text(body) if content_type.startswith(_TEXT_TYPES) or not content_type else None
        if text is None:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
        else:
            event["body"] = text
    return event


def _as_text(body: bytes) -> str | None:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _query_parameters(query: str) -> dict[str, str]:
    from urllib.parse import parse_qsl

    params: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        params[key] = f"{params[key]},{value}" if key in params else value
    return params


def http_response(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body of the response API Gateway makes of a 2.0 result."""
    if not isinstance(result, Mapping) or "statusCode" not in result:
        # No statusCode: the whole result is the JSON body of a 200.
        return 200, [("Content-Type", "application/json")], json.dumps(result).encode()
    try:
        status = int(result["statusCode"])
    except (TypeError, ValueError):
        return _error(*_INTERNAL_ERROR)
    if not 100 <= status <= 599:
        return _error(*_INTERNAL_ERROR)
    headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
    headers += [("Set-Cookie", str(c)) for c in result.get("cookies") or []]
    raw = result.get("body")
    if raw is None:
        body = b""
    elif result.get("isBase64Encoded"):
        try:
            body = base64.b64decode(str(raw), validate=True)
        except ValueError:
            return _error(*_INTERNAL_ERROR)
    else:
        body = (raw if isinstance(raw, str) else json.dumps(raw)).encode()
    return status, headers, body


def _error(status: int, payload: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
    return status, [("Content-Type", "application/json")], json.dumps(payload).encode()


def routes(config: GatewayConfig, invoker: Invoker, log: EventLog) -> list[web.RouteDef]:
    """A catch-all route: every method and path goes to the handler."""

    async def serve(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if len(body) > MAX_BODY_BYTES:
            return _to_web(
                413,
                [("Content-Type", "application/json")],
                b'{"message":"Request Entity Too Large"}',
            )
        event = http_event(
            config,
            method=request.method,
            path=request.rel_url.raw_path,  # as sent, like rawPath
            query=request.query_string,
            headers=request.headers.items(),
            body=body,
            source_ip=request.remote or "127.0.0.1",
            host=request.host,
        )
        outcome = await invoker.invoke(event)
        if outcome.kind == "ok":
            status, headers, payload = http_response(outcome.result)
        else:
            invoker.report(outcome)
            failure = _TIMEOUT if outcome.kind == "timeout" else _INTERNAL_ERROR
            status, headers, payload = _error(*failure)
        log.write(f"HTTP {request.method} {request.path} -> {status}")
        return _to_web(status, headers, payload)

    return [web.route("*", "/{path:.*}", serve)]


def _to_web(status: int, headers: list[tuple[str, str]], body: bytes) -> web.Response:
    response = web.Response(status=status, body=body)
    for name, value in headers:
        if name.lower() == "content-length":
            continue
        response.headers.add(name, value)
    return response
