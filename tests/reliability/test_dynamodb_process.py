"""The local DynamoDB is a process of its own beside ``wsgate local``, and never outlives it."""

from __future__ import annotations

import signal
from typing import Any

from reliability_support import EXAMPLES, running, wait_until


def test_the_dynamodb_server_ends_when_the_gateway_is_killed(gateway_process: Any) -> None:
    gateway = gateway_process(EXAMPLES / "echo")
    server = gateway.dynamodb_server_pid()
    assert server is not None and server != gateway.proc.pid
    assert gateway.dynamodb().list_tables()["TableNames"] == [gateway.table]
    gateway.proc.send_signal(signal.SIGKILL)  # no handler of the gateway's runs
    gateway.proc.wait(10)
    wait_until(lambda: not running(server), 15, "the DynamoDB server to exit")


def test_the_dynamodb_server_ends_when_the_gateway_stops(gateway_process: Any) -> None:
    gateway = gateway_process(EXAMPLES / "echo")
    server = gateway.dynamodb_server_pid()
    assert server is not None
    gateway.stop()
    wait_until(lambda: not running(server), 15, "the DynamoDB server to exit")
