"""An open connection, from the 101 to ``$disconnect``.

The session reads the client's frames, queues its messages for the dispatcher (one at a time, in
order, as API Gateway invokes the integration; at most ``INBOX_LIMIT`` wait, and the socket is not
read meanwhile, so a flooding client is slowed by TCP instead of filling memory), applies the
stage's per-route throttle to each message as it arrives, enforces the idle timeout and the maximum
duration (close 1001 "Going away"), refuses binary frames (close 1003), and once the socket has
closed runs ``$disconnect`` with the close code and reason (:mod:`wsgate.apigw.limits`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from aiohttp import WSMsgType
from wsgate.apigw import events, limits

from .connections import Connection, Registry
from .delivery import Delivery, Spawn
from .dispatch import Dispatcher
from .eventlog import EventLog, elapsed_ms
from .faults import Faults
from .invoker import Invoker
from .throttle import StageThrottle
from .websocket import GatewayWebSocket


class Session:
    """Serves open connections; ``stopping()`` tells it the gateway is shutting down."""

    def __init__(
        self,
        *,
        invoker: Invoker,
        dispatcher: Dispatcher,
        delivery: Delivery,
        registry: Registry,
        log: EventLog,
        spawn: Spawn,
        stopping: Callable[[], bool],
        idle_timeout: float = limits.IDLE_TIMEOUT_S,
        max_duration: float = limits.MAX_DURATION_S,
        faults: Faults | None = None,
        throttle: StageThrottle | None = None,
    ) -> None:
        self.invoker = invoker
        self.dispatcher = dispatcher
        self.delivery = delivery
        self.registry = registry
        self.log = log
        self.spawn = spawn
        self.stopping = stopping
        self.idle_timeout = idle_timeout
        self.max_duration = max_duration
        self.faults = faults
        self.throttle = throttle

    async def serve(self, conn: Connection, ws: GatewayWebSocket) -> None:
        """Read ``conn``'s socket until it closes, then schedule its ``$disconnect``."""
        loop = asyncio.get_running_loop()
        idle_handle: list[asyncio.TimerHandle] = []
        going_away = (limits.CLOSE_GOING_AWAY, limits.REASON_GOING_AWAY)

        def check_idle() -> None:
            elapsed = time.monotonic() - conn.last_active
            if elapsed >= self.idle_timeout:
                self.delivery.close(conn, *going_away)
            else:
                idle_handle[:] = [loop.call_later(self.idle_timeout - elapsed, check_idle)]

        idle_handle.append(loop.call_later(self.idle_timeout, check_idle))
        max_handle = loop.call_later(self.max_duration, self.delivery.close, conn, *going_away)
        dispatching = self.spawn(self._dispatch(conn))
        client_status: tuple[int, str] = (limits.CLOSE_ABNORMAL, "")
        try:
            while True:
                msg = await ws.receive()
                if msg.type == WSMsgType.TEXT:
                    if self.faults and self.faults.drop_socket(
                        ws, conn.connection_id, self.log.write
                    ):
                        continue
                    conn.touch()
                    route = self.dispatcher.route(msg.data)
                    if self.throttle is not None and not self.throttle.allow(route or ""):
                        self.log.event(
                            route or "(no route)",
                            conn.connection_id,
                            limits.THROTTLED_STATUS,
                            0.0,
                            "throttled: not handled, no frame sent",
                        )
                        continue
                    if not await self._enqueue(conn, (msg.data, route), dispatching):
                        break
                elif msg.type == WSMsgType.BINARY:
                    client_status = (limits.CLOSE_UNSUPPORTED_DATA, "")
                    self.delivery.close(conn, limits.CLOSE_UNSUPPORTED_DATA, "")
                elif msg.type == WSMsgType.CLOSE:
                    client_status = limits.disconnect_status(msg.data, msg.extra or "")
                    break
                elif msg.type == WSMsgType.ERROR:
                    code = getattr(msg.data, "code", limits.CLOSE_ABNORMAL)
                    client_status = (int(code), "")
                    break
                elif msg.type in (WSMsgType.CLOSING, WSMsgType.CLOSED):
                    break
        finally:
            idle_handle[0].cancel()
            max_handle.cancel()
            self.registry.remove(conn)
            if not ws.closed:
                with contextlib.suppress(Exception):
                    await ws.close()
        status = conn.server_close or client_status
        self.spawn(self._disconnect(conn, dispatching, status))

    @staticmethod
    async def _enqueue(
        conn: Connection, item: tuple[str, str | None] | None, dispatching: asyncio.Task[None]
    ) -> bool:
        """Queue ``item`` for the dispatcher, waiting while the inbox is full (the socket is
        not read meanwhile). False when the dispatcher has ended (the gateway is stopping)."""
        if not conn.inbox.full():
            conn.inbox.put_nowait(item)
            return True
        put = asyncio.ensure_future(conn.inbox.put(item))
        await asyncio.wait({put, dispatching}, return_when=asyncio.FIRST_COMPLETED)
        if put.done():
            return True
        put.cancel()
        return False

    async def _dispatch(self, conn: Connection) -> None:
        """Run the connection's messages through the handler, in order, one at a time."""
        while True:
            item = await conn.inbox.get()
            if item is None:
                return
            body, route = item
            try:
                await self.dispatcher.message(conn, body, route)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.log.write(f"gateway error on {conn.connection_id}: {exc!r}")

    async def _disconnect(
        self, conn: Connection, dispatching: asyncio.Task[None], status: tuple[int, str]
    ) -> None:
        """``$disconnect`` after the last message has been handled (best effort, result ignored)."""
        await self._enqueue(conn, None, dispatching)
        await asyncio.gather(dispatching, return_exceptions=True)
        if self.stopping():
            return
        started = time.perf_counter()
        event = events.disconnect_event(conn.info, status[0], status[1])
        outcome = await self.invoker.invoke(event, best_effort=True)
        self.invoker.report(outcome)
        code = 200 if outcome.kind == "ok" else outcome.kind
        self.log.event("$disconnect", conn.connection_id, code, elapsed_ms(started), f"{status[0]}")
