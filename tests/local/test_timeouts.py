"""Idle timeout and maximum connection duration (shortened here; 10 min and 2 h on AWS)."""

from __future__ import annotations

import time

import pytest
from local_support import connect_tagged, recorder_gateway
from websockets.exceptions import ConnectionClosed


@pytest.fixture(scope="module")
def short(tmp_path_factory):
    gw, record = recorder_gateway(
        tmp_path_factory.mktemp("short"), idle_timeout=1.0, max_duration=3.0
    )
    try:
        yield gw, record
    finally:
        gw.stop()


def test_idle_connection_is_closed_with_1001_going_away(short):
    gw, record = short
    client, cid = connect_tagged(gw, record)
    with pytest.raises(ConnectionClosed):
        client.recv(timeout=10)
    assert (client.close_code, client.close_reason) == (1001, "Going away")
    ctx = record.event(cid, "DISCONNECT")["requestContext"]
    assert (ctx["disconnectStatusCode"], ctx["disconnectReason"]) == (1001, "Going away")


def test_busy_connection_still_ends_at_the_maximum_duration(short):
    gw, record = short
    client, cid = connect_tagged(gw, record)
    deadline = time.monotonic() + 15
    with pytest.raises(ConnectionClosed):  # traffic keeps it from idling out, not from expiring
        while time.monotonic() < deadline:
            client.send_json({"action": "echo"})
            client.recv(timeout=5)
            time.sleep(0.2)
    assert client.close_code == 1001
    messages = [
        e
        for e in record.entries()
        if e["event"]["requestContext"]["connectionId"] == cid
        and e["event"]["requestContext"]["eventType"] == "MESSAGE"
    ]
    assert len(messages) > 5  # well past one idle timeout
    assert record.event(cid, "DISCONNECT")["requestContext"]["disconnectStatusCode"] == 1001
