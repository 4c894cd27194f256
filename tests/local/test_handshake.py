"""$connect outcomes: what a client sees when the handshake is accepted, refused or fails."""

from __future__ import annotations

import pytest
from local_support import connect_tagged, recorder_gateway
from websockets.exceptions import InvalidStatus, NegotiationError


def refused_status(gw, **kwargs) -> int:
    with pytest.raises(InvalidStatus) as info:
        gw.connect(**kwargs)
    return int(info.value.response.status_code)


def test_2xx_from_connect_opens_the_connection(recorder):
    gw, record = recorder
    client, cid = connect_tagged(gw, record)
    with client:
        client.send_json({"action": "echo"})
        assert client.recv_json()["route"] == "echo"
    assert cid in {e["event"]["requestContext"]["connectionId"] for e in record.entries()}


@pytest.mark.parametrize("status", [400, 403, 501])
def test_non_2xx_from_connect_refuses_the_handshake_with_that_status(recorder, status):
    gw, _ = recorder
    assert refused_status(gw, query={"status": str(status)}) == status


def test_connect_handler_that_raises_gives_502(recorder):
    gw, _ = recorder
    assert refused_status(gw, query={"do": "raise"}) == 502


def test_connect_worker_that_dies_gives_502_and_is_replaced(recorder):
    gw, _ = recorder
    assert refused_status(gw, query={"do": "exit"}) == 502
    with gw.connect() as client:  # a fresh worker takes the dead one's place
        client.send_json({"action": "echo"})
        assert client.recv_json()["route"] == "echo"


def test_only_the_subprotocol_header_is_passed_back(recorder):
    gw, _ = recorder
    with gw.connect(query={"protocol": "chat.v1"}, subprotocols=["chat.v1"]) as client:
        response = client.ws.response
        assert response.status_code == 101
        assert response.headers["Sec-WebSocket-Protocol"] == "chat.v1"
        assert "X-Not-Forwarded" not in response.headers
        assert client.ws.subprotocol == "chat.v1"


def test_subprotocol_is_passed_back_as_returned_even_if_not_offered(recorder):
    gw, _ = recorder
    with pytest.raises(NegotiationError, match="unsupported subprotocol"):
        gw.connect(query={"protocol": "not.offered"}, subprotocols=["chat.v1"])


def test_refused_connection_never_reaches_disconnect(recorder):
    gw, record = recorder
    refused_status(gw, query={"status": "401", "tag": "refused-once"})
    with gw.connect() as client:  # by now a DISCONNECT would have been recorded
        client.send_json({"action": "echo"})
        client.recv_json()
    tagged = [
        e
        for e in record.entries()
        if e["event"]["requestContext"]["eventType"] == "CONNECT"
        and (e["event"].get("queryStringParameters") or {}).get("tag") == "refused-once"
    ]
    assert len(tagged) == 1
    refused_id = tagged[0]["event"]["requestContext"]["connectionId"]
    assert not [
        e
        for e in record.entries()
        if e["event"]["requestContext"]["connectionId"] == refused_id
        and e["event"]["requestContext"]["eventType"] == "DISCONNECT"
    ]


def test_api_without_connect_route_accepts_every_handshake(tmp_path):
    gw, record = recorder_gateway(tmp_path, connect_route=False, default_route=False)
    try:
        with gw.connect(query={"status": "500"}) as client:
            client.send_json({"action": "echo"})
            assert client.recv_json()["route"] == "echo"
        assert not [
            e for e in record.entries() if e["event"]["requestContext"]["eventType"] == "CONNECT"
        ]
        # ...and without $default, an unmatched message gets API Gateway's Forbidden frame
        with gw.connect() as client:
            client.send_json({"action": "nope"})
            frame = client.recv()
            cid = gw.connection_ids()[0]
            assert frame.startswith('{"message": "Forbidden", "connectionId":"' + cid + '", ')
            assert frame.endswith('"}')
            assert '"requestId":"' in frame
            client.send("not json either")
            assert client.recv().startswith('{"message": "Forbidden"')
            client.send_json({"action": "echo"})  # the connection stays open
            assert client.recv_json()["route"] == "echo"
    finally:
        gw.stop()
