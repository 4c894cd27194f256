"""Frame and message limits, binary frames and invalid text, as API Gateway enforces them."""

from __future__ import annotations

import pytest
from local_support import connect_tagged
from websockets.exceptions import ConnectionClosed


def closed_with(client) -> tuple[int | None, str | None]:
    with pytest.raises(ConnectionClosed):
        client.recv(timeout=10)
    return client.close_code, client.close_reason


def test_fragmented_message_up_to_128_kb_is_reassembled(recorder):
    gw, _ = recorder
    body = '{"action": "echo", "pad": "' + "x" * (128 * 1024 - 29) + '"}'
    assert len(body) == 128 * 1024
    chunks = [body[i : i + 32 * 1024] for i in range(0, len(body), 32 * 1024)]
    with gw.connect() as client:
        client.send(iter(chunks))
        reply = client.recv_json()
    assert reply == {**reply, "route": "echo", "length": 128 * 1024}


def test_frame_over_32_kb_closes_with_1009(recorder):
    gw, record = recorder
    client, cid = connect_tagged(gw, record)
    client.send('{"action": "echo", "pad": "' + "x" * (33 * 1024) + '"}')
    assert closed_with(client)[0] == 1009
    assert record.event(cid, "DISCONNECT")["requestContext"]["disconnectStatusCode"] == 1009


def test_message_over_128_kb_closes_with_1009_even_in_small_frames(recorder):
    gw, _ = recorder
    client = gw.connect()
    client.send(iter(["x" * (16 * 1024)] * 9))
    assert closed_with(client)[0] == 1009


def test_binary_frame_closes_with_1003(recorder):
    gw, record = recorder
    client, cid = connect_tagged(gw, record)
    client.send(b'{"action": "echo"}')
    assert closed_with(client)[0] == 1003
    assert record.event(cid, "DISCONNECT")["requestContext"]["disconnectStatusCode"] == 1003


def test_invalid_utf8_text_closes_with_1007(recorder):
    gw, _ = recorder
    client = gw.connect()
    client.ws.send(b"\xff\xfe not text", text=True)
    assert closed_with(client)[0] == 1007
