"""Messages: route selection, two-way routes, and API Gateway's error frames."""

from __future__ import annotations

import json
import re

import pytest
from local_support import connect_tagged

FRAME = re.compile(
    r'^\{"message": "(?P<message>[^"]+)", "connectionId":"(?P<cid>[^"]+)", '
    r'"requestId":"(?P<rid>[^"]+)"\}$'
)


@pytest.mark.parametrize(
    ("body", "route"),
    [
        ('{"action": "echo"}', "echo"),
        ('{"action": "ECHO"}', "$default"),  # exact match only
        ('{"other": "echo"}', "$default"),  # missing key
        ("echo", "$default"),  # not JSON
        ('{"action": "$connect"}', "$default"),
        ('{"action": ["echo"]}', "$default"),
    ],
)
def test_route_selection_picks_the_route_or_default(recorder, body, route):
    gw, _ = recorder
    with gw.connect() as client:
        client.send(body)
        assert client.recv_json()["route"] == route


def test_two_way_route_sends_back_only_the_body_whatever_the_status(recorder):
    gw, _ = recorder
    with gw.connect() as client:
        # one-way: the return value (a body) is not sent; only the handler's own post arrives
        client.send_json({"action": "echo"})
        assert client.recv_json()["route"] == "echo"
        client.send_json({"action": "reply", "do": "reply", "text": "just the body"})
        assert client.recv() == "just the body"


def test_handler_exception_gives_internal_server_error_frame(recorder):
    gw, record = recorder
    client, cid = connect_tagged(gw, record)
    with client:
        client.send_json({"action": "echo", "do": "raise"})
        frame = FRAME.match(client.recv())
        assert frame and frame["message"] == "Internal server error" and frame["cid"] == cid
        message = record.wait_for(
            lambda e: e["event"]["requestContext"].get("requestId") == frame["rid"]
        )
        assert message["event"]["requestContext"]["eventType"] == "MESSAGE"
        client.send_json({"action": "echo"})  # still open
        assert client.recv_json()["route"] == "echo"


def test_dead_worker_gives_internal_server_error_and_is_replaced(recorder):
    gw, _ = recorder
    with gw.connect() as client:
        client.send_json({"action": "echo", "do": "exit"})
        frame = FRAME.match(client.recv())
        assert frame and frame["message"] == "Internal server error"
        client.send_json({"action": "echo"})
        assert client.recv_json()["route"] == "echo"


def test_handler_over_the_timeout_gives_endpoint_timed_out_and_a_fresh_worker(recorder):
    gw, _ = recorder  # integration_timeout_ms = 1500 in main.tf
    with gw.connect() as client:
        client.send_json({"action": "echo", "do": "sleep", "seconds": 5})
        frame = FRAME.match(client.recv(timeout=10))
        assert frame and frame["message"] == "Endpoint request timed out"
        client.send_json({"action": "echo"})
        assert client.recv_json()["route"] == "echo"


def test_messages_of_one_connection_reach_the_handler_in_order(recorder):
    gw, record = recorder
    client, cid = connect_tagged(gw, record)
    with client:
        for n in range(5):
            client.send(json.dumps({"action": "echo", "n": n}))
        for _ in range(5):
            client.recv_json()
    bodies = [
        json.loads(e["event"]["body"])["n"]
        for e in record.entries()
        if e["event"]["requestContext"]["connectionId"] == cid
        and e["event"]["requestContext"]["eventType"] == "MESSAGE"
    ]
    assert bodies == [0, 1, 2, 3, 4]


def test_module_state_lives_on_in_a_warm_worker(recorder):
    gw, _ = recorder
    with gw.connect() as client:
        seen: dict[int, list[int]] = {}
        for _ in range(6):
            client.send_json({"action": "echo"})
            reply = client.recv_json()
            seen.setdefault(reply["pid"], []).append(reply["calls"])
    # each worker process counts its own calls, one after another
    assert all(calls == sorted(calls) and len(set(calls)) == len(calls) for calls in seen.values())
    assert any(len(calls) > 1 for calls in seen.values())
