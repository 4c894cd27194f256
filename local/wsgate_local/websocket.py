"""aiohttp's WebSocket response with API Gateway's frame limit added.

aiohttp already reassembles fragmented messages and closes with 1009 when a message is over its
``max_msg_size``; API Gateway also refuses any single frame over 32 KB, which aiohttp cannot
express, so the parser here checks each data frame as it completes.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp._websocket import reader_py
from aiohttp.helpers import DEFAULT_CHUNK_SIZE
from aiohttp.http_websocket import WebSocketError, WSCloseCode
from wsgate.apigw import limits

_DATA_OPCODES = {0x0, 0x1, 0x2}


class FrameLimitedReader(reader_py.WebSocketReader):
    """The pure-Python aiohttp frame parser, refusing data frames over ``max_frame``."""

    def __init__(self, *args: Any, max_frame: int = limits.MAX_FRAME_BYTES, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._max_frame = max_frame

    def _handle_frame(self, fin: bool, opcode: int, payload: Any, compressed: int) -> None:
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
