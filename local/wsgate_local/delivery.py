"""Sending to and closing client connections: what the session and @connections share.

Every frame the gateway puts on a client's socket goes through :class:`Delivery`: API Gateway's
own error frames and two-way replies (:meth:`Delivery.frame`), PostToConnection payloads
(:meth:`Delivery.post`) and server-side closes (:meth:`Delivery.close`), so "the client was
active" and "the server closed it, with this code" are recorded in one place.

No write waits on a client for long. What a client has not read stays in the gateway's buffer,
and that buffer is bounded (:data:`wsgate.apigw.limits.MAX_OUTBOUND_BUFFER_BYTES`): over it,
PostToConnection answers 429 ``LimitExceededException`` as AWS does when "the WebSocket client
side buffer is full", and nothing is written, so the caller's retry cannot duplicate the message.
A close that cannot reach the client drops the TCP connection instead of waiting for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any, Literal

from aiohttp import WSMsgType
from wsgate.apigw import limits

from .connections import Connection
from .eventlog import note_error_frame
from .websocket import GatewayWebSocket

Spawn = Callable[[Coroutine[Any, Any, Any]], "asyncio.Task[Any]"]
#: What became of a PostToConnection: on the socket (200), no socket (410), buffer full (429).
PostOutcome = Literal["posted", "gone", "full"]
#: Longest a write waits for a slow reader to take some of its buffer before it returns anyway
#: (the frame is in the buffer by then; the bound, not this wait, is what limits memory).
DRAIN_WAIT_S = 1.0


class Delivery:
    """Writes to connections' sockets; ``spawn`` runs a background task the gateway tracks."""

    def __init__(self, spawn: Spawn, *, max_buffer: int = limits.MAX_OUTBOUND_BUFFER_BYTES) -> None:
        self._spawn = spawn
        self.max_buffer = max_buffer
        #: Writes still waiting for a slow client to drain (few: the buffer bound limits them).
        self._draining: set[asyncio.Future[None]] = set()
        #: Request id of each message being handled -> the code of the error frame its handler
        #: posted to the caller (wsgate's runtime does, e.g. bad_request), for the console line.
        self.error_frames: dict[str, str] = {}

    def _full(self, ws: GatewayWebSocket, size: int) -> bool:
        return ws.outbound_bytes() + size > self.max_buffer

    async def frame(self, conn: Connection, text: str) -> None:
        """Send a text frame from the gateway itself; a socket that is gone, or whose client
        has stopped reading (buffer full), does not get it."""
        ws = conn.ws
        if ws is None or ws.closed:
            return
        data = text.encode()
        if self._full(ws, len(data)):
            return
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self._write(ws, data, WSMsgType.TEXT)
            conn.touch()

    async def post(self, conn: Connection, data: bytes) -> PostOutcome:
        """Deliver a PostToConnection payload: a text frame when it is UTF-8, else binary."""
        ws = conn.ws
        if ws is None or ws.closed:
            return "gone"
        if self._full(ws, len(data)):
            return "full"
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
            await self._write(ws, data, opcode)
        except (ConnectionError, RuntimeError):
            return "gone"
        conn.touch()
        return "posted"

    async def _write(self, ws: GatewayWebSocket, data: bytes, opcode: WSMsgType) -> None:
        """Write one frame. aiohttp puts it in the transport's buffer at once, then waits for the
        buffer to drain when it is past its high-water mark. That wait goes on in the background
        (it ends when the client reads or the socket is dropped); the caller stops waiting after
        ``DRAIN_WAIT_S``, as the frame is buffered: a client that stops reading holds nobody."""
        if not ws.write_waits(len(data)):
            await ws.send_frame(data, opcode)  # the common case: nothing to wait for
            return
        sending = asyncio.ensure_future(ws.send_frame(data, opcode))
        done, _ = await asyncio.wait({sending}, timeout=DRAIN_WAIT_S)
        if sending in done:
            sending.result()  # raises what the write raised (a socket already closing)
            return
        self._draining.add(sending)
        sending.add_done_callback(self._drained)

    def _drained(self, task: asyncio.Future[None]) -> None:
        self._draining.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: a socket dropped while it waited is not an error

    def close(self, conn: Connection, code: int, reason: str) -> None:
        """Close from the server side; ``code``/``reason`` are reported in ``$disconnect``."""
        if conn.server_close is not None or conn.ws is None:
            return
        conn.server_close = (code, reason)
        self._spawn(self._close(conn.ws, code, reason))

    async def _close(self, ws: GatewayWebSocket, code: int, reason: str) -> None:
        """Send the close frame and wait for the client's, or drop the connection: at once when
        its buffer is full (the frame could not reach it), else after ``CLOSE_WAIT_S``."""
        if not self._full(ws, 0):
            try:
                await asyncio.wait_for(
                    ws.close(code=code, message=reason.encode()), limits.CLOSE_WAIT_S
                )
            except (TimeoutError, ConnectionError, RuntimeError):
                pass
            else:
                return
        ws.drop()
