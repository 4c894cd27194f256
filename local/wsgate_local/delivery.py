"""Sending to and closing client connections: what the session and @connections share.

Every frame the gateway puts on a client's socket goes through :class:`Delivery`: API Gateway's
own error frames and two-way replies (:meth:`Delivery.frame`), PostToConnection payloads
(:meth:`Delivery.post`) and server-side closes (:meth:`Delivery.close`), so "the client was
active" and "the server closed it, with this code" are recorded in one place.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

from aiohttp import WSMsgType

from .connections import Connection
from .eventlog import note_error_frame

Spawn = Callable[[Coroutine[Any, Any, Any]], "asyncio.Task[Any]"]


class Delivery:
    """Writes to connections' sockets; ``spawn`` runs a background task the gateway tracks."""

    def __init__(self, spawn: Spawn) -> None:
        self._spawn = spawn
        #: Request id of each message being handled -> the code of the error frame its handler
        #: posted to the caller (wsgate's runtime does, e.g. bad_request), for the console line.
        self.error_frames: dict[str, str] = {}

    async def frame(self, conn: Connection, text: str) -> None:
        """Send a text frame from the gateway itself; a socket already gone is ignored."""
        ws = conn.ws
        if ws is None or ws.closed:
            return
        with contextlib.suppress(ConnectionError, RuntimeError):
            await ws.send_str(text)
            conn.touch()

    async def post(self, conn: Connection, data: bytes) -> bool:
        """Deliver a PostToConnection payload: a text frame when it is UTF-8, else binary.
        False when the socket is gone (the caller answers 410)."""
        ws = conn.ws
        if ws is None or ws.closed:
            return False
        if self.error_frames and b'"type":"error"' in data[:64]:
            note_error_frame(self.error_frames, data)
        try:
            # The payload goes out as it came (no decode and re-encode); decoding only checks it.
            opcode = WSMsgType.TEXT
            if not data.isascii():
                try:
                    data.decode("utf-8")
                except UnicodeDecodeError:
                    opcode = WSMsgType.BINARY
            await ws.send_frame(data, opcode)
        except (ConnectionError, RuntimeError):
            return False
        conn.touch()
        return True

    def close(self, conn: Connection, code: int, reason: str) -> None:
        """Close from the server side; ``code``/``reason`` are reported in ``$disconnect``."""
        if conn.server_close is not None or conn.ws is None:
            return
        conn.server_close = (code, reason)
        self._spawn(conn.ws.close(code=code, message=reason.encode()))
