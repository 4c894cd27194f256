"""The @connections management API, wire-compatible with boto3's ``apigatewaymanagementapi``.

Errors carry ``x-amzn-ErrorType`` so botocore raises ``GoneException``, ``ForbiddenException``
and ``PayloadTooLargeException`` as it does against AWS. ``GET /{stage}/@connections`` (a list
of the live connections) is local-only: AWS has no such call.

Only a loopback ``Host`` is served, and the three AWS calls need a SigV4-shaped ``Authorization``
header, as every SDK sends (see :mod:`.loopback`; the signature is not verified). Nothing here
sends CORS headers, so a web page can neither post to a connection nor read an answer.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable

from aiohttp import web
from wsgate.apigw import limits
from wsgate.apigw import management as wire

from .connections import OPEN, Connection, Registry
from .delivery import Delivery
from .faults import Faults
from .latency import Latency
from .loopback import refusal

#: API Gateway's connection ids: 16 characters of URL-safe base64 ending in one ``=``
#: (SEMANTICS.md, "ID format"), e.g. ``BFaT_fALIAMCKug=``.
CONNECTION_ID = re.compile(r"[A-Za-z0-9_-]{15}=")


def error(status: int, message: str | None = None) -> web.Response:
    """An error answer as botocore reads it (``x-amzn-ErrorType`` by status, JSON body)."""
    headers, body = wire.error_answer(status, message)
    return web.Response(status=status, body=body, headers=headers)


def routes(
    stage: str,
    registry: Registry,
    delivery: Delivery,
    log: Callable[[str], None],
    *,
    faults: Faults | None = None,
    bound_host: str = "127.0.0.1",
    latency: Latency | None = None,
) -> list[web.RouteDef]:
    """The @connections routes under ``/{stage}``: connections come from ``registry``, frames
    go out through ``delivery``; ``faults`` may answer a call with an injected 429/500.
    ``bound_host`` is the address the gateway listens on (a ``Host`` it also accepts).
    ``latency`` delays each of the three AWS calls by an emulated round trip (:mod:`.latency`)."""
    base = f"/{stage}/@connections"

    def refused(request: web.Request, *, need_signature: bool = True) -> web.Response | None:
        reason = refusal(
            request.headers.get("Host"),
            request.headers.get("Authorization"),
            bound_host,
            need_signature=need_signature,
        )
        if reason is None:
            return None
        log(f"@connections refused {request.method} {request.path}: {reason}")
        return error(403, reason)

    def lookup(request: web.Request) -> Connection | web.Response:
        denied = refused(request)
        if denied is not None:
            return denied
        connection_id = request.match_info["connection_id"]
        if faults:  # wsgate local --faults: maybe answer 429/500 as AWS can
            injected = faults.connections_error(request.method, connection_id, log)
            if injected is not None:
                return injected
        conn = registry.get(connection_id)
        if conn is None:
            # An id in API Gateway's format that is not connected (closed, or never existed) is
            # 410; anything else is 400 "Invalid connectionId" (SEMANTICS.md, @connections).
            if not CONNECTION_ID.fullmatch(connection_id):
                return error(400, f"Invalid connectionId: {connection_id}")
            return error(410)
        if conn.state != OPEN:
            # Still in $connect (or closing): AWS answers 410 until the handshake has completed.
            return error(410)
        return conn

    async def post(request: web.Request) -> web.Response:
        denied = refused(request)
        if denied is not None:
            return denied
        data = await request.read()
        if len(data) > limits.MAX_POST_BYTES:
            return error(413, wire.payload_too_large_message(limits.MAX_POST_BYTES))
        found = lookup(request)
        if isinstance(found, web.Response):
            return found
        outcome = await delivery.post(found, data)
        if outcome == "gone":
            return error(410)
        if outcome == "full":
            # The client is not reading: 429 LimitExceededException, "the WebSocket client side
            # buffer is full" (botocore's apigatewaymanagementapi model). Nothing was written.
            return error(429)
        return web.Response(status=wire.POST_OK)

    async def get(request: web.Request) -> web.Response:
        found = lookup(request)
        if isinstance(found, web.Response):
            return found
        return web.json_response(found.describe(), status=wire.GET_OK)

    async def delete(request: web.Request) -> web.Response:
        found = lookup(request)
        if isinstance(found, web.Response):
            return found
        delivery.close(found, limits.CLOSE_NORMAL, limits.REASON_DELETED)
        return web.Response(status=wire.DELETE_OK)

    async def listing(request: web.Request) -> web.Response:
        denied = refused(request, need_signature=False)  # local-only and read-only
        if denied is not None:
            return denied
        items = [
            {
                "connectionId": c.connection_id,
                "state": c.state,
                **c.describe(),
                "authorizer": c.info.authorizer,
            }
            for c in registry.live.values()
        ]
        return web.json_response({"connections": items})

    def delayed(
        handler: Callable[[web.Request], Awaitable[web.Response]],
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        if not latency:
            return handler

        async def travel(request: web.Request) -> web.Response:
            # Half the round trip on the way in, half on the way back (see latency.py).
            half = latency.sample() / 2
            await asyncio.sleep(half)
            response = await handler(request)
            await asyncio.sleep(half)
            return response

        return travel

    async def wrong_stage(request: web.Request) -> web.Response:
        # AWS answers a management call outside the stage's path with 403, not 404.
        return error(403)

    return [
        web.post(base + "/{connection_id}", delayed(post)),
        web.get(base + "/{connection_id}", delayed(get), allow_head=False),
        web.delete(base + "/{connection_id}", delayed(delete)),
        web.get(base, listing, allow_head=False),
        web.route("*", "/@connections/{connection_id}", wrong_stage),
        web.route("*", "/{stage}/@connections/{connection_id}", wrong_stage),
    ]
