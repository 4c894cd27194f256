"""The gateway's view of its WebSocket connections (what API Gateway keeps per connection)."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .events import ConnectionInfo

CONNECTING, OPEN, CLOSED = "connecting", "open", "closed"


def iso8601(epoch_ms: int) -> str:
    """``2024-01-20T11:55:00.453Z``: the timestamp format of GetConnection."""
    dt = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


@dataclass
class Connection:
    """One client connection, from the handshake to the close."""

    info: ConnectionInfo
    state: str = CONNECTING
    ws: Any = None
    last_active_ms: int = 0
    last_active: float = field(default_factory=time.monotonic)
    #: Set when the gateway closes the connection itself (DeleteConnection, timeouts):
    #: the code and reason reported in $disconnect.
    server_close: tuple[int, str] | None = None
    inbox: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)

    @property
    def connection_id(self) -> str:
        return self.info.connection_id

    def touch(self) -> None:
        self.last_active = time.monotonic()
        self.last_active_ms = time.time_ns() // 1_000_000

    def describe(self) -> dict[str, Any]:
        """The GetConnection body."""
        identity: dict[str, Any] = {"sourceIp": self.info.source_ip}
        if self.info.user_agent is not None:
            identity["userAgent"] = self.info.user_agent
        return {
            "connectedAt": iso8601(self.info.connected_at),
            "identity": identity,
            "lastActiveAt": iso8601(self.last_active_ms or self.info.connected_at),
        }


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
