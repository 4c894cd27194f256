"""A client that connects the moment the port opens is served, not refused: events wait until
DynamoDB and the workers are ready."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

from local_support import ROOT
from websockets.sync.client import connect


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_first_handshake_during_startup_is_served():
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "wsgate_local.cli",
            "local",
            str(ROOT / "examples" / "chat"),
            "--port",
            str(port),
            "--quiet",
            "--no-reload",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:  # the first moment the port accepts a TCP connection
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the gateway never opened its port"
                time.sleep(0.005)
        with connect(f"ws://127.0.0.1:{port}/dev?name=early", open_timeout=60) as ws:
            ws.send(json.dumps({"action": "join", "room": "lobby"}))
            reply = json.loads(ws.recv(timeout=30))
            assert reply["type"] == "joined", reply
            assert reply["room"] == "lobby"
    finally:
        process.terminate()
        process.wait(timeout=30)
