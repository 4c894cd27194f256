"""The stage's throttling (``throttling_burst_limit``, ``throttling_rate_limit``): token buckets
per route, ``$connect`` included. A handshake over the limit gets 429; a message over it is not
passed to the handler (what API Gateway sends the client then is undocumented: nothing here)."""

from __future__ import annotations

import time

import pytest
from local_support import connect_tagged, recorder_gateway
from websockets.exceptions import InvalidStatus


@pytest.fixture
def throttled(tmp_path):
    gw, record = recorder_gateway(tmp_path, throttling_burst_limit=3, throttling_rate_limit=1)
    try:
        yield gw, record
    finally:
        gw.stop()


def _messages(record, cid):
    return [
        e
        for e in record.entries()
        if e["kind"] == "invoke"
        and e["event"]["requestContext"]["connectionId"] == cid
        and e["event"]["requestContext"]["eventType"] == "MESSAGE"
    ]


def test_handshakes_over_the_burst_get_429_until_the_bucket_refills(throttled):
    gw, record = throttled
    clients = [connect_tagged(gw, record)[0] for _ in range(3)]
    with pytest.raises(InvalidStatus) as refused:
        gw.connect()
    assert refused.value.response.status_code == 429
    time.sleep(1.2)  # one token back at 1 per second
    clients.append(gw.connect())
    for client in clients:
        client.close()


def test_messages_over_a_routes_limit_are_not_handled_and_the_connection_lives_on(throttled):
    gw, record = throttled
    client, cid = connect_tagged(gw, record)
    with client:
        for n in range(10):
            client.send_json({"action": "echo", "n": n})
        replies = []
        try:
            while True:
                replies.append(client.recv_json(timeout=2))
        except TimeoutError:
            pass
        assert 3 <= len(replies) <= 5  # the burst, plus what refilled while they ran
        assert len(_messages(record, cid)) == len(replies)
        # another route has a bucket of its own
        client.send_json({"action": "nothing-matches", "n": 99})
        assert client.recv_json(timeout=5)["route"] == "$default"
        time.sleep(1.2)
        client.send_json({"action": "echo", "n": 100})
        assert client.recv_json(timeout=5)["route"] == "echo"
