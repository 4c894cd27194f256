"""The gateway's view of its WebSocket connections (what API Gateway keeps per connection)."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from wsgate.apigw.events import ConnectionInfo, now_ms
from wsgate.apigw.management import connection_document

from .websocket import GatewayWebSocket

CONNECTING, OPEN, CLOSED = "connecting", "open", "closed"
#: Messages read from a client and not yet handled. When the handler falls behind, the gateway
#: stops reading that socket (TCP pushes back on the client) instead of queueing without bound.
INBOX_LIMIT = 16


@dataclass
class Connection:
    """One client connection, from the handshake to the close."""

    info: ConnectionInfo
    state: str = CONNECTING
    ws: GatewayWebSocket | None = None
    last_active_ms: int = 0
    last_active: float = field(default_factory=time.monotonic)
    #: Set when the gateway closes the connection itself (DeleteConnection, timeouts):
    #: the code and reason reported in $disconnect.
    server_close: tuple[int, str] | None = None
    #: (body, route) of each message read and not yet handled; None ends the queue.
    inbox: asyncio.Queue[tuple[str, str | None] | None] = field(
        default_factory=lambda: asyncio.Queue(INBOX_LIMIT)
    )

    @property
    def connection_id(self) -> str:
        return self.info.connection_id

    def touch(self) -> None:
        self.last_active = time.monotonic()
        self.last_active_ms = now_ms()

    def describe(self) -> dict[str, Any]:
        """The GetConnection body."""
        return connection_document(
            self.info.connected_at, self.info.source_ip, self.info.user_agent, self.last_active_ms
        )


class Registry:
    """Live connections by id, plus the ids that existed and closed (they answer 410, not 403)."""

    def __init__(self, remember_closed: int = 100_000) -> None:
        self.live: dict[str, Connection] = {}
        self._closed: OrderedDict[str, None] = OrderedDict()
        self._remember = remember_closed

    def add(self, conn: Connection) -> None:
        self.live[conn.connection_id] = conn

    def get(self, connection_id: str) -> Connection | None:
        return self.live.get(connection_id)

    def was_closed(self, connection_id: str) -> bool:
        return connection_id in self._closed

    def remove(self, conn: Connection) -> None:
        conn.state = CLOSED
        self.live.pop(conn.connection_id, None)
        self._closed[conn.connection_id] = None
        if len(self._closed) > self._remember:
            self._closed.popitem(last=False)
