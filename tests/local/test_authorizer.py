"""The REQUEST authorizer on $connect: identity sources, policies, errors, and its context."""

from __future__ import annotations

import pytest
from local_support import recorder_gateway
from websockets.exceptions import InvalidStatus


@pytest.fixture(scope="module")
def authed(tmp_path_factory):
    gw, record = recorder_gateway(
        tmp_path_factory.mktemp("auth"), authorizer_handler="auth.handler"
    )
    try:
        yield gw, record
    finally:
        gw.stop()


def status_for(gw, token: str | None) -> int:
    headers = {} if token is None else {"Authorization": token}
    with pytest.raises(InvalidStatus) as info:
        gw.connect(headers=headers)
    return int(info.value.response.status_code)


def authorizer_calls(record) -> int:
    return sum(1 for e in record.entries() if e["kind"] == "authorize")


def test_missing_identity_source_is_401_without_calling_the_authorizer(authed):
    gw, record = authed
    before = authorizer_calls(record)
    assert status_for(gw, None) == 401
    assert status_for(gw, "") == 401
    assert authorizer_calls(record) == before


@pytest.mark.parametrize(
    ("token", "status"),
    [("unauthorized", 401), ("deny", 403), ("bug", 500), ("nested", 500)],
)
def test_authorizer_refusals_map_to_http_statuses(authed, token, status):
    gw, _ = authed
    assert status_for(gw, token) == status


def test_allowed_connection_carries_the_authorizer_context_on_every_event(authed):
    gw, record = authed
    expected = {"principalId": "alice", "user": "alice", "level": 3, "admin": True}
    with gw.connect(headers={"Authorization": "allow"}) as client:
        client.send_json({"action": "echo"})
        client.recv_json()
        cid = gw.connection_ids()[-1]
    for kind in ("CONNECT", "MESSAGE", "DISCONNECT"):
        ctx = record.event(cid, kind)["requestContext"]
        assert ctx["authorizer"] == expected, kind


def test_authorizer_gets_the_request_authorizer_input(authed):
    gw, record = authed
    with gw.connect(headers={"Authorization": "wildcard"}, query={"room": "a"}):
        pass
    entry = record.wait_for(
        lambda e: (
            e["kind"] == "authorize" and e["event"]["headers"].get("Authorization") == "wildcard"
        )
    )
    event = entry["event"]
    assert list(event) == [
        "type",
        "methodArn",
        "headers",
        "multiValueHeaders",
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "stageVariables",
        "requestContext",
    ]
    assert event["type"] == "REQUEST"
    api = event["requestContext"]["apiId"]
    assert event["methodArn"] == f"arn:aws:execute-api:us-east-1:123456789012:{api}/dev/$connect"
    lower = {k.lower(): v for k, v in event["headers"].items()}
    assert lower["upgrade"].lower() == "websocket" and "connection" in lower
    assert lower["content-length"] == "0"
    assert event["queryStringParameters"] == {"room": "a"}
    assert event["stageVariables"] == {}
    assert "authorizer" not in event["requestContext"]
    assert event["requestContext"]["routeKey"] == "$connect"
