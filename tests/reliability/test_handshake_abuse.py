"""Handshakes that fail: nothing runs for an upgrade that cannot succeed, and nothing is left
behind by a client that leaves while ``$connect`` runs.

``apps/faulty`` stores a connection item and joins a room in ``$connect`` when asked to be slow
(``?slow=SECONDS``), so a lost upgrade without ``$disconnect`` would leave both in the table.
"""

from __future__ import annotations

import base64
import os
import socket
import struct
import threading
import time
from collections.abc import Iterator

import pytest
from reliability_support import APPS, GatewayProcess, wait_until
from websockets.sync.client import connect


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    # a longer integration timeout than the app's: a first $connect includes the worker's
    # first DynamoDB calls, and this module is about clients that leave, not timeouts
    gateway = GatewayProcess(
        APPS / "faulty",
        tmp_path_factory.mktemp("faulty"),
        "--workers",
        "2",
        "--timeout-ms",
        "8000",
        quiet=False,
    )
    try:
        yield gateway
    finally:
        gateway.stop()


def _address(gateway: GatewayProcess) -> tuple[str, int]:
    host, port = gateway.ws_url.split("//")[1].split("/")[0].split(":")
    return host, int(port)


def _upgrade(
    path: str = "/dev",
    *,
    http: bytes = b"HTTP/1.1",
    key: bytes | None = None,
    version: bytes = b"13",
) -> bytes:
    key = base64.b64encode(os.urandom(16)) if key is None else key
    return (
        b"GET " + path.encode() + b" " + http + b"\r\nHost: x\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: " + key + b"\r\n"
        b"Sec-WebSocket-Version: " + version + b"\r\n\r\n"
    )


def _status_line(gateway: GatewayProcess, request: bytes) -> bytes:
    with socket.create_connection(_address(gateway), timeout=15) as sock:
        sock.sendall(request)
        return sock.recv(300).split(b"\r\n")[0]


def _settled(gateway: GatewayProcess) -> None:
    wait_until(lambda: not gateway.connection_items(), 30, "every connection item to be gone")


INVALID = {
    "a key that is not 16 base64 bytes": (_upgrade(key=b"bm90LWEta2V5"), b"400"),
    "a key that is not base64": (_upgrade(key=b"!!!!!!!!!!!!!!!!!!!!!!=="), b"400"),
    "version 99": (_upgrade(version=b"99"), b"426"),
    "version 8 (a draft aiohttp still accepts)": (_upgrade(version=b"8"), b"426"),
    "HTTP/1.0": (_upgrade(http=b"HTTP/1.0"), b"400"),
}


@pytest.mark.parametrize("request_bytes, status", INVALID.values(), ids=INVALID.keys())
def test_invalid_upgrade_is_refused_before_connect_runs(
    faulty: GatewayProcess, request_bytes: bytes, status: bytes
) -> None:
    _settled(faulty)
    log_before = len(faulty.output())
    assert _status_line(faulty, request_bytes).split(b" ")[1] == status
    time.sleep(0.5)  # a $connect line, were one coming, is written within this
    assert "$connect" not in faulty.output()[log_before:]
    assert not faulty.connection_items()


def test_version_refusal_names_the_version_spoken(faulty: GatewayProcess) -> None:
    with socket.create_connection(_address(faulty), timeout=15) as sock:
        sock.sendall(_upgrade(version=b"8"))
        head = sock.recv(1000).lower()
    assert b"sec-websocket-version: 13" in head


def _reset_during_connect(gateway: GatewayProcess, after: float) -> None:
    sock = socket.create_connection(_address(gateway), timeout=15)
    sock.sendall(_upgrade("/dev?slow=0.6"))
    time.sleep(after)
    # SO_LINGER 0: close() sends a TCP RST instead of a FIN
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def test_client_that_resets_during_connect_gets_its_disconnect(faulty: GatewayProcess) -> None:
    _settled(faulty)
    log_before = len(faulty.output())
    clients = [
        threading.Thread(target=_reset_during_connect, args=(faulty, 0.1 + 0.05 * n))
        for n in range(8)
    ]
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    wait_until(
        lambda: faulty.output()[log_before:].count("client left during the upgrade") == 8,
        60,
        "a console line for each lost upgrade",
    )
    _settled(faulty)  # the connection items and the lobby memberships are gone
    # each $disconnect's line is written once its invocation returns, just after its deletes
    wait_until(
        lambda: faulty.output()[log_before:].count("$disconnect") >= 8,
        30,
        "a $disconnect line for each lost upgrade",
    )
    log = faulty.output()[log_before:]
    assert "Traceback" not in log and "Error handling request" not in log


def test_client_that_gives_up_on_a_slow_handshake_gets_its_disconnect(
    faulty: GatewayProcess,
) -> None:
    _settled(faulty)
    log_before = len(faulty.output())
    with pytest.raises(TimeoutError):
        connect(faulty.ws_url + "?slow=1.5", open_timeout=0.3, legacy=True)
    wait_until(
        lambda: "client left during the upgrade" in faulty.output()[log_before:],
        30,
        "the lost upgrade's console line",
    )
    _settled(faulty)
    assert "Traceback" not in faulty.output()[log_before:]
