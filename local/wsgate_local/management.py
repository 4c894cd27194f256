"""The @connections management API, wire-compatible with boto3's ``apigatewaymanagementapi``.

Errors carry ``x-amzn-ErrorType`` so botocore raises ``GoneException``, ``ForbiddenException``
and ``PayloadTooLargeException`` as it does against AWS. ``GET /{stage}/@connections`` (a list
of the live connections) is local-only: AWS has no such call.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from aiohttp import web

from . import frames
from .connections import OPEN, Connection, iso8601

if TYPE_CHECKING:
    from .server import Gateway


#: API Gateway's connection ids: 16 characters of URL-safe base64 ending in one ``=``
#: (SEMANTICS.md, "ID format"), e.g. ``BFaT_fALIAMCKug=``.
CONNECTION_ID = re.compile(r"[A-Za-z0-9_-]{15}=")


def error(status: int, error_type: str, message: str | None) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps({"message": message}).encode(),
        content_type="application/json",
        headers={"x-amzn-ErrorType": error_type},
    )


def _lookup(gateway: Gateway, request: web.Request) -> Connection | web.Response:
    connection_id = request.match_info["connection_id"]
    faults = gateway.faults
    if faults:  # wsgate local --faults: maybe answer 429/500 as AWS can
        injected = faults.connections_error(request.method, connection_id, gateway.log.write)
        if injected is not None:
            return injected
    conn = gateway.registry.get(connection_id)
    if conn is None:
        # An id in API Gateway's format that is not connected (closed, or never existed) is
        # 410; anything else is 400 "Invalid connectionId" (SEMANTICS.md, @connections).
        if not CONNECTION_ID.fullmatch(connection_id):
            return error(400, "BadRequestException", f"Invalid connectionId: {connection_id}")
        return error(410, "GoneException", None)
    if conn.state != OPEN:
        # Still in $connect (or closing): AWS answers 410 until the handshake has completed.
        return error(410, "GoneException", None)
    return conn


def routes(gateway: Gateway, stage: str) -> list[web.RouteDef]:
    base = f"/{stage}/@connections"

    async def post(request: web.Request) -> web.Response:
        data = await request.read()
        if len(data) > frames.MAX_POST_BYTES:
            return error(
                413, "PayloadTooLargeException", f"Message too long. Max {frames.MAX_POST_BYTES}"
            )
        found = _lookup(gateway, request)
        if isinstance(found, web.Response):
            return found
        if not await gateway.send_to(found, data):
            return error(410, "GoneException", None)
        return web.Response(status=200)

    async def get(request: web.Request) -> web.Response:
        found = _lookup(gateway, request)
        if isinstance(found, web.Response):
            return found
        return web.json_response(found.describe())

    async def delete(request: web.Request) -> web.Response:
        found = _lookup(gateway, request)
        if isinstance(found, web.Response):
            return found
        gateway.close_connection(found, frames.CLOSE_NORMAL, frames.REASON_DELETED)
        return web.Response(status=204)

    async def listing(request: web.Request) -> web.Response:
        items = [
            {
                "connectionId": c.connection_id,
                "state": c.state,
                "connectedAt": iso8601(c.info.connected_at),
                "lastActiveAt": iso8601(c.last_active_ms or c.info.connected_at),
                "identity": c.describe()["identity"],
                "authorizer": c.info.authorizer,
            }
            for c in gateway.registry.live.values()
        ]
        return web.json_response({"connections": items})

    async def wrong_stage(request: web.Request) -> web.Response:
        # AWS answers a management call outside the stage's path with 403, not 404.
        return error(403, "ForbiddenException", "Forbidden")

    return [
        web.post(base + "/{connection_id}", post),
        web.get(base + "/{connection_id}", get, allow_head=False),
        web.delete(base + "/{connection_id}", delete),
        web.get(base, listing, allow_head=False),
        web.route("*", "/@connections/{connection_id}", wrong_stage),
        web.route("*", "/{stage}/@connections/{connection_id}", wrong_stage),
    ]
