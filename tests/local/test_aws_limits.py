"""Limits the local gateway enforces because AWS does: the 128 KB message limit on two-way
replies, Lambda's 6 MB response limit, the function's ``memory_size``, JSON without NaN, and
RFC 6455's rules for client frames (masking, close codes)."""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
from typing import Any
from urllib.parse import urlparse

import pytest
from local_support import recorder_gateway

INTERNAL_ERROR = "Internal server error"


def strict_json(text: str) -> Any:
    """Parse ``text`` as RFC 8259 JSON: NaN and Infinity are refused."""

    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_two_way_reply_over_128_kb_is_not_delivered(recorder):
    gw, _ = recorder
    with gw.connect() as client:
        client.send_json({"action": "reply", "do": "reply", "size": 128 * 1024 + 1})
        client.send_json({"action": "reply", "do": "reply", "size": 128 * 1024})
        # Only the reply within the limit arrives; the larger one was dropped, not truncated.
        assert client.recv(timeout=15) == "r" * (128 * 1024)


def test_lambda_response_over_6_mb_fails_the_integration(recorder):
    gw, _ = recorder
    with gw.connect() as client:
        client.send_json({"action": "reply", "do": "reply", "size": 6_400_000})
        frame = client.recv_json(timeout=30)
        assert frame["message"] == INTERNAL_ERROR
        client.send_json({"action": "reply", "do": "reply", "size": 100})
        assert client.recv(timeout=15) == "r" * 100  # the connection and worker carry on


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_reply_holding_nan_or_infinity_is_never_sent_as_invalid_json(recorder, value):
    gw, _ = recorder
    with gw.connect() as client:
        client.send_json({"action": "reply", "do": "nan", "value": value})
        frame = strict_json(client.recv(timeout=15))  # raises on NaN/Infinity
        assert frame["message"] == INTERNAL_ERROR


def test_handler_over_its_memory_size_is_killed_like_on_lambda(tmp_path):
    # The recorder's 1.5 s integration timeout could end a slow allocation first on a busy
    # machine; the limit under test is memory, so give it time.
    gw, _ = recorder_gateway(tmp_path, integration_timeout_ms=20_000)
    try:
        assert gw.config.memory_size == 256  # the module's default
        with gw.connect() as client:
            client.send_json({"action": "echo", "do": "allocate", "mb": 400})
            assert client.recv_json(timeout=30)["message"] == INTERNAL_ERROR
            client.send_json({"action": "echo", "do": "allocate", "mb": 16})
            assert client.recv_json(timeout=30) == {"allocated": 16}
    finally:
        gw.stop()


# -- RFC 6455 client frames, with a raw socket -------------------------------------------------


def raw_connection(ws_url: str) -> socket.socket:
    url = urlparse(ws_url)
    sock = socket.create_connection((url.hostname, url.port), timeout=15)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET {url.path} HTTP/1.1\r\nHost: {url.hostname}:{url.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def frame(opcode: int, payload: bytes, *, masked: bool = True) -> bytes:
    assert len(payload) < 126
    if not masked:
        return bytes([0x80 | opcode, len(payload)]) + payload
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + body


def _exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise AssertionError("socket closed without a close frame")
        data += chunk
    return data


def close_code_received(sock: socket.socket) -> int:
    """The code of the server's close frame (skipping any other frame before it)."""
    while True:
        first, second = _exactly(sock, 2)
        length = second & 0x7F
        if length == 126:
            length = struct.unpack(">H", _exactly(sock, 2))[0]
        elif length == 127:
            length = struct.unpack(">Q", _exactly(sock, 8))[0]
        payload = _exactly(sock, length)
        if first & 0x0F == 0x8:
            return int(struct.unpack(">H", payload[:2])[0])


def test_unmasked_client_frame_is_refused_with_1002(recorder):
    gw, _ = recorder
    with raw_connection(gw.url) as sock:
        sock.sendall(frame(0x1, b'{"action": "echo"}', masked=False))
        assert close_code_received(sock) == 1002


@pytest.mark.parametrize("code", [1005, 1006, 1015, 1004, 2999, 5000, 65535])
def test_close_code_a_client_may_not_send_is_refused_with_1002(recorder, code):
    gw, _ = recorder
    with raw_connection(gw.url) as sock:
        sock.sendall(frame(0x8, struct.pack(">H", code)))
        assert close_code_received(sock) == 1002


@pytest.mark.parametrize("code", [1000, 1001, 3000, 4999])
def test_valid_client_close_code_is_accepted(recorder, code):
    gw, _ = recorder
    with raw_connection(gw.url) as sock:
        sock.sendall(frame(0x1, b'{"action": "echo"}'))  # masked: accepted
        sock.sendall(frame(0x8, struct.pack(">H", code)))
        assert close_code_received(sock) in {code, 1000}  # a normal close, not 1002
