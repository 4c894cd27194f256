"""One message through the API: route selection, the MESSAGE event, the reply or error frame.

No route and no ``$default`` gives the Forbidden frame; a handler error the Internal server error
frame, a timeout the Endpoint request timed out frame; a two-way route sends the handler's
``body`` back (the frames and rules are in :mod:`wsgate.apigw.frames` and ``.selection``).
"""

from __future__ import annotations

import time

from wsgate.apigw import events, frames
from wsgate.apigw.proxy import reply_body, reply_too_large
from wsgate.apigw.selection import select_route

from .config import GatewayConfig
from .connections import Connection
from .delivery import Delivery
from .eventlog import EventLog, elapsed_ms, handler_outcome
from .invoker import Invoker


class Dispatcher:
    """Routes a connection's messages to the handler and answers as API Gateway does."""

    def __init__(
        self, config: GatewayConfig, invoker: Invoker, delivery: Delivery, log: EventLog
    ) -> None:
        self.config = config
        self.invoker = invoker
        self.delivery = delivery
        self.log = log

    def route(self, body: str) -> str | None:
        """The route key of a message (None: no route and no ``$default``)."""
        config = self.config
        return select_route(
            config.route_selection_expression,
            body,
            config.route_keys,
            has_default=config.default_route,
        )

    async def message(self, conn: Connection, body: str, route: str | None = None) -> None:
        """Handle one message from ``conn``'s client (``route``: already selected)."""
        started = time.perf_counter()
        config = self.config
        if route is None:
            route = self.route(body)
        request_id = events.new_id()
        cid = conn.connection_id
        if route is None:
            await self.delivery.frame(conn, frames.error_frame(frames.FORBIDDEN, cid, request_id))
            self.log.event("(no route)", cid, 403, elapsed_ms(started), "Forbidden")
            return
        event = events.message_event(conn.info, route, body, request_id=request_id)
        self.delivery.error_frames[request_id] = ""
        try:
            outcome = await self.invoker.invoke(event)
        finally:
            error_code = self.delivery.error_frames.pop(request_id, "")
        if outcome.kind == "ok":
            status, note = handler_outcome(outcome.result, error_code)
            if route in config.two_way_routes:
                reply = reply_body(outcome.result)
                if reply is not None and reply_too_large(reply):
                    note = f"reply of {len(reply.encode())} bytes over 128 KB not delivered"
                elif reply is not None:
                    await self.delivery.frame(conn, reply)
            self.log.event(route, cid, status, elapsed_ms(started), note)
            return
        self.invoker.report(outcome)
        timed_out = outcome.kind == "timeout"
        message = frames.ENDPOINT_TIMED_OUT if timed_out else frames.INTERNAL_SERVER_ERROR
        await self.delivery.frame(conn, frames.error_frame(message, cid, request_id))
        status = 504 if timed_out else 502
        self.log.event(route, cid, status, elapsed_ms(started), outcome.error_message[:120])
