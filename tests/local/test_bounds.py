"""Nothing a client does makes the gateway queue or wait without bound: a flooding client is
slowed down (its inbox is bounded and its socket is not read meanwhile), a half-open handshake
or a stalled request body is cut off, as a front door does."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time

import pytest
from local_support import connect_tagged, recorder_gateway
from wsgate_local.connections import INBOX_LIMIT


@pytest.fixture(scope="module")
def bounded(tmp_path_factory):
    gw, record = recorder_gateway(
        tmp_path_factory.mktemp("bounds"), handshake_timeout=1.0, body_timeout=1.0
    )
    try:
        yield gw, record
    finally:
        gw.stop()


def _address(gw) -> tuple[str, int]:
    host, port = gw.url.split("//")[1].split("/")[0].split(":")
    return host, int(port)


def _handled(record, cid) -> int:
    return sum(
        1
        for e in record.entries()
        if e["kind"] == "invoke"
        and e["event"]["requestContext"]["connectionId"] == cid
        and e["event"]["requestContext"]["eventType"] == "MESSAGE"
    )


def test_a_flooding_client_is_not_queued_in_full_and_its_messages_stop_when_it_leaves(bounded):
    gw, record = bounded
    client, cid = connect_tagged(gw, record)
    message = json.dumps({"do": "sleep", "seconds": 0.05, "pad": "x" * 30_000})
    sent = [0]

    def flood() -> None:
        try:
            for _ in range(4000):
                client.send(message)
                sent[0] += 1
        except Exception:
            pass  # the socket was aborted under it

    sender = threading.Thread(target=flood, daemon=True)
    sender.start()
    time.sleep(3)
    # the handler takes 50 ms a message: the client must have been held back, not read ahead
    assert sent[0] < 1000, f"{sent[0]} messages of 30 KB were accepted in 3 s"
    raw = client.ws.socket
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    left_at = _handled(record, cid)
    raw.close()  # a TCP RST: the client is gone
    record.event(cid, "DISCONNECT", timeout=30)
    after = _handled(record, cid) - left_at
    # what had been read runs (on AWS each accepted message is already invoked): the inbox and
    # what aiohttp had read ahead (one 256 KB socket read, about 8 of these), no more
    assert after <= INBOX_LIMIT + 64, f"{after} of {sent[0]} ran after the client had left"
    print(f"flood: {sent[0]} sent in 3 s, {left_at} handled, {after} after the client left")
    sender.join(10)


def test_half_open_handshakes_are_closed_after_the_handshake_timeout(bounded):
    gw, _ = bounded
    sockets = []
    for _ in range(100):
        sock = socket.create_connection(_address(gw), timeout=10)
        sock.sendall(b"GET /dev HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n")  # never ends
        sockets.append(sock)
    started = time.monotonic()
    for sock in sockets:
        assert sock.recv(100) == b""  # closed by the gateway, not by the 10 s socket timeout
        sock.close()
    assert time.monotonic() - started < 8


def test_a_huge_content_length_is_refused_at_once(bounded):
    gw, _ = bounded
    with socket.create_connection(_address(gw), timeout=10) as sock:
        sock.sendall(
            b"POST /dev/@connections/AAAAAAAAAAAAAAA%3D HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Length: 1000000000000\r\n\r\n"
        )
        head = sock.recv(1000)
    assert head.split(b" ")[1] == b"413"
    assert b"PayloadTooLargeException" in head


def test_a_body_that_stops_coming_gets_408(bounded):
    gw, _ = bounded
    with socket.create_connection(_address(gw), timeout=10) as sock:
        sock.sendall(
            b"POST /dev/@connections/AAAAAAAAAAAAAAA%3D HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Length: 100\r\n\r\nonly ten b"
        )
        head = sock.recv(1000)
    assert head.split(b" ")[1] == b"408"
