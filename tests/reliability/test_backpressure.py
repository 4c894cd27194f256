"""A client that stops reading: the gateway's memory stays bounded, @connections answers 429
``LimitExceededException`` once the client's buffer is full (as AWS does when "the WebSocket
client side buffer is full"), and the idle timeout and maximum duration still close it.

The stuck client is a raw socket with a small receive buffer that completes the handshake and
never reads again; the senders are stock boto3 ``apigatewaymanagementapi`` clients.
"""

from __future__ import annotations

import base64
import os
import socket
import threading
import time
from collections import Counter
from typing import Any
from urllib.parse import urlparse

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from reliability_support import EXAMPLES, GatewayProcess, wait_until

ECHO = EXAMPLES / "echo"
PAYLOAD = b"x" * 100_000
SENDERS = 8
#: What the gateway may grow by while 8 senders push ~25 MB at a client that reads nothing:
#: its bounded buffer (1 MiB) plus allocator slack, far below what the senders push.
RSS_GROWTH_LIMIT_KB = 12 * 1024


def stuck_client(ws_url: str) -> socket.socket:
    """Open a WebSocket with a raw socket that will never read after the 101."""
    url = urlparse(ws_url)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((url.hostname, url.port))
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {url.path} HTTP/1.1\r\nHost: {url.hostname}:{url.port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    sock.sendall(request.encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def management(gateway: GatewayProcess) -> Any:
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=gateway.endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1}, read_timeout=15, connect_timeout=5),
    )


def push(gateway: GatewayProcess, connection_id: str, until: Any, answers: Counter[str]) -> None:
    """Post PAYLOAD from SENDERS threads until ``until()`` is true; count the answers."""
    lock = threading.Lock()

    def sender() -> None:
        client = management(gateway)
        while not until():
            try:
                client.post_to_connection(ConnectionId=connection_id, Data=PAYLOAD)
                outcome = "200"
            except ClientError as exc:
                outcome = exc.response["Error"]["Code"]
                if outcome == "LimitExceededException":
                    time.sleep(0.05)
            except BotoCoreError as exc:  # a POST that hangs until the read timeout
                outcome = type(exc).__name__
            with lock:
                answers[outcome] += 1

    threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)


@pytest.mark.parametrize("timer", ["idle", "max-duration"])
def test_client_that_stops_reading_gets_429_bounded_memory_and_is_still_closed(
    gateway_process: Any, timer: str
) -> None:
    flags = ["--idle-timeout", "3"] if timer == "idle" else ["--max-duration", "8"]
    gateway = gateway_process(ECHO, *flags)
    rss_start = gateway.rss_kb()
    sock = stuck_client(gateway.ws_url)
    try:
        [conn] = gateway.live_connections()
        answers: Counter[str] = Counter()
        started = time.monotonic()
        if timer == "idle":
            # Push for 4 s (each accepted POST counts as activity), then stop: idle closes it.
            push(gateway, conn["connectionId"], lambda: time.monotonic() > started + 4, answers)
        else:
            # Push until the 8 s maximum ends the connection: the POSTs then answer 410.
            push(gateway, conn["connectionId"], lambda: answers["GoneException"] > 0, answers)
        rss_peak = gateway.rss_kb()
        pushed_mb = answers["200"] * len(PAYLOAD) / 1e6
        print(
            f"\n{timer}: answers {dict(answers)}; accepted {pushed_mb:.1f} MB; "
            f"gateway RSS {rss_start} -> {rss_peak} KB"
        )
        # No POST hung: each got an answer, and once the buffer was full, 429.
        assert set(answers) <= {"200", "LimitExceededException", "GoneException"}, answers
        assert answers["LimitExceededException"] > 0
        # Accepted: the gateway's bound plus what the kernel's socket buffers took (tcp_wmem).
        assert answers["200"] * len(PAYLOAD) < 8 * 1024 * 1024
        assert rss_peak - rss_start < RSS_GROWTH_LIMIT_KB
        # The timer closes the connection although its close frame cannot be delivered.
        wait_until(lambda: not gateway.live_connections(), 20, f"the {timer} close")
        print(f"closed after {time.monotonic() - started:.1f} s")
    finally:
        sock.close()
    assert gateway.proc.poll() is None
