"""aiohttp's WebSocket response with API Gateway's frame limit and RFC 6455's client rules added.

aiohttp already reassembles fragmented messages and closes with 1009 when a message is over its
``max_msg_size``; API Gateway also refuses any single frame over 32 KB, which aiohttp cannot
express, so the parser here checks each data frame as it completes. aiohttp is lenient where RFC
6455 is strict, so the parser also closes with 1002 on a frame from the client that is not masked
(section 5.1: "a server MUST close the connection upon receiving a frame that is not masked") and
on a close code a client may not send (section 7.4: 1005, 1006 and 1015 never travel in a close
frame, 1004 is reserved, 1016-2999 are not assigned, 5000 and above are not defined).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp._websocket import reader_py
from aiohttp.helpers import DEFAULT_CHUNK_SIZE
from aiohttp.http_websocket import WebSocketError, WSCloseCode
from wsgate.apigw import limits

_DATA_OPCODES = {0x0, 0x1, 0x2}
_CLOSE_OPCODE = 0x8
#: Close codes a client may send (RFC 6455 section 7.4.1, and the IANA registry for 1012-1014);
#: 3000-4999 are for libraries and applications (section 7.4.2).
_CLIENT_CLOSE_CODES = frozenset(
    {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014}
)


def close_code_allowed(code: int) -> bool:
    """True when a client may send ``code`` in its close frame."""
    return code in _CLIENT_CLOSE_CODES or 3000 <= code <= 4999


class FrameLimitedReader(reader_py.WebSocketReader):
    """The pure-Python aiohttp frame parser, refusing data frames over ``max_frame``."""

    def __init__(self, *args: Any, max_frame: int = limits.MAX_FRAME_BYTES, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._max_frame = max_frame

    def _handle_frame(self, fin: bool, opcode: int, payload: Any, compressed: int) -> None:
        if not self._has_mask:  # the frame now being handled (set by the header parser)
            raise WebSocketError(
                WSCloseCode.PROTOCOL_ERROR, "client frames must be masked (RFC 6455 section 5.1)"
            )
        if opcode == _CLOSE_OPCODE and len(payload) >= 2:
            code = int.from_bytes(payload[:2], "big")
            if not close_code_allowed(code):
                raise WebSocketError(
                    WSCloseCode.PROTOCOL_ERROR,
                    f"close code {code} may not be sent by a client (RFC 6455 section 7.4)",
                )
        if opcode in _DATA_OPCODES and len(payload) > self._max_frame:
            raise WebSocketError(
                WSCloseCode.MESSAGE_TOO_BIG,
                f"Frame size {len(payload)} exceeds limit {self._max_frame}",
            )
        super()._handle_frame(fin, opcode, payload, compressed)


class GatewayWebSocket(web.WebSocketResponse):
    """A WebSocket with API Gateway's limits: 32 KB frames, 128 KB messages, no compression."""

    def __init__(self, *, protocols: tuple[str, ...] = ()) -> None:
        # aiohttp refuses a message when its size reaches max_msg_size, so allow exactly 128 KB.
        super().__init__(
            protocols=protocols,
            max_msg_size=limits.MAX_MESSAGE_BYTES + 1,
            compress=False,
            autoping=True,
        )

    def outbound_bytes(self) -> int:
        """Bytes written to this socket that the client has not read yet (the transport's
        buffer; the kernel's socket buffer comes on top and is bounded by the kernel)."""
        writer = self._writer
        transport = getattr(writer, "transport", None)
        if transport is None or transport.is_closing():
            return 0
        return int(transport.get_write_buffer_size())

    def write_waits(self, size: int) -> bool:
        """True when writing ``size`` more bytes may wait for the client to read: the transport
        is paused, or this write takes its buffer past the high-water mark (which pauses it)."""
        transport = getattr(self._writer, "transport", None)
        protocol = getattr(self._writer, "protocol", None)
        if transport is None or getattr(protocol, "_paused", True):
            return True
        high = transport.get_write_buffer_limits()[1]
        return bool(transport.get_write_buffer_size() + size + 14 > high)  # 14: frame header

    def drop(self) -> None:
        """Drop the TCP connection at once, discarding what the client has not read. A plain
        ``close()`` waits for the buffer to drain, which never happens if it stopped reading."""
        transport = getattr(self._writer, "transport", None)
        if transport is not None:
            transport.abort()

    def _post_start(self, request: Any, protocol: Any, writer: Any) -> None:
        self._ws_protocol = protocol
        self._writer = writer
        self._reset_heartbeat()
        loop = self._loop
        assert loop is not None
        self._reader = reader_py.WebSocketDataQueue(
            request._protocol, DEFAULT_CHUNK_SIZE, loop=loop
        )
        self._parser = FrameLimitedReader(
            self._reader, self._max_msg_size, compress=False, decode_text=True
        )
        request.protocol.set_parser(self._parser)
        request.protocol.keep_alive(False)
