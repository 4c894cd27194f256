"""The @connections API through a stock boto3 ``apigatewaymanagementapi`` client."""

from __future__ import annotations

import datetime

import pytest
from botocore.exceptions import ClientError
from local_support import connect_tagged, recorder_gateway
from websockets.exceptions import ConnectionClosed


@pytest.fixture(scope="module")
def mgmt(recorder):
    return recorder[0].management_client()


def error_code(excinfo) -> str:
    return str(excinfo.value.response["Error"]["Code"])


def test_post_delivers_a_text_frame(recorder, mgmt):
    gw, record = recorder
    client, cid = connect_tagged(gw, record)
    with client:
        answer = mgmt.post_to_connection(ConnectionId=cid, Data=b'{"hello": "there"}')
        assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert client.recv() == '{"hello": "there"}'
        assert len(mgmt.post_to_connection(ConnectionId=cid, Data=b"x" * 131_072)) > 0
        assert len(client.recv()) == 131_072


def test_post_sends_utf8_as_text_and_other_bytes_as_binary(recorder, mgmt):
    gw, record = recorder
    client, cid = connect_tagged(gw, record)
    with client:
        mgmt.post_to_connection(ConnectionId=cid, Data="héllo ☃ 🎉".encode())
        assert client.recv() == "héllo ☃ 🎉"
        mgmt.post_to_connection(ConnectionId=cid, Data=b"\xff\xfe raw")
        assert client.recv() == b"\xff\xfe raw"


def test_post_over_131072_bytes_is_payload_too_large(recorder, mgmt):
    gw, record = recorder
    client, cid = connect_tagged(gw, record)
    with client, pytest.raises(mgmt.exceptions.PayloadTooLargeException) as info:
        mgmt.post_to_connection(ConnectionId=cid, Data=b"x" * 131_073)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413


def test_get_describes_the_connection(recorder, mgmt):
    gw, record = recorder
    client, cid = connect_tagged(gw, record, user_agent_header="tester/2")
    with client:
        client.send_json({"action": "echo"})
        client.recv()
        info = mgmt.get_connection(ConnectionId=cid)
    connected = record.event(cid, "CONNECT")["requestContext"]["connectedAt"]
    assert isinstance(info["ConnectedAt"], datetime.datetime)
    assert int(info["ConnectedAt"].timestamp() * 1000) == connected
    assert info["LastActiveAt"] >= info["ConnectedAt"]
    assert info["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": "tester/2"}


def test_delete_closes_with_1000_and_runs_disconnect(recorder, mgmt):
    gw, record = recorder
    client, cid = connect_tagged(gw, record)
    answer = mgmt.delete_connection(ConnectionId=cid)
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ConnectionClosed):
        client.recv(timeout=10)
    assert client.close_code == 1000
    ctx = record.event(cid, "DISCONNECT")["requestContext"]
    assert (ctx["disconnectStatusCode"], ctx["disconnectReason"]) == (
        1000,
        "Connection Closed Normally",
    )


def test_closed_connection_is_gone_for_every_call(recorder, mgmt):
    gw, record = recorder
    client, cid = connect_tagged(gw, record)
    client.close()
    record.event(cid, "DISCONNECT")
    for call in (mgmt.get_connection, mgmt.delete_connection):
        with pytest.raises(mgmt.exceptions.GoneException):
            call(ConnectionId=cid)
    with pytest.raises(mgmt.exceptions.GoneException):
        mgmt.post_to_connection(ConnectionId=cid, Data=b"late")


def test_well_formed_id_that_never_existed_is_gone(mgmt):
    for call in (mgmt.get_connection, mgmt.delete_connection):
        with pytest.raises(mgmt.exceptions.GoneException):
            call(ConnectionId="AAAAAAAAAAAAAAA=")
    with pytest.raises(mgmt.exceptions.GoneException):
        mgmt.post_to_connection(ConnectionId="AAAAAAAAAAAAAAA=", Data=b"who?")


@pytest.mark.parametrize(
    "bad_id", ["1f0e9a3c-5b7d-4c2e-9f00-6d1b2a3c4d5e", "ckv9x2m3p0000", "AAAAAAAAAAAAAAA", "A="]
)
def test_id_not_in_api_gateways_format_is_a_bad_request(mgmt, bad_id):
    # botocore does not model BadRequestException for this API: a ClientError carrying the code
    with pytest.raises(ClientError) as failure:
        mgmt.post_to_connection(ConnectionId=bad_id, Data=b"who?")
    error = failure.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Code"] == "BadRequestException"
    assert error["Error"]["Message"] == f"Invalid connectionId: {bad_id}"


def test_posting_to_a_connection_still_in_connect_is_gone(recorder):
    gw, record = recorder
    with gw.connect(query={"do": "post_self"}):
        entry = record.wait_for(lambda e: e["kind"] == "post_self")
    assert entry["outcome"] == "GoneException"


def test_endpoint_without_the_stage_is_forbidden(recorder):
    import boto3

    gw, record = recorder
    client, cid = connect_tagged(gw, record)
    stageless = boto3.client("apigatewaymanagementapi", endpoint_url=gw.endpoint.rsplit("/", 1)[0])
    with client, pytest.raises(stageless.exceptions.ForbiddenException):
        stageless.post_to_connection(ConnectionId=cid, Data=b"lost")


def test_another_stage_moves_both_the_websocket_and_the_management_api(tmp_path):
    gw, _ = recorder_gateway(tmp_path, stage_name="prod")
    try:
        assert gw.url.endswith("/prod") and gw.endpoint.endswith("/prod")
        with gw.connect() as client:
            cid = gw.connection_ids()[-1]
            gw.management_client().post_to_connection(ConnectionId=cid, Data=b"on prod")
            assert client.recv() == "on prod"
    finally:
        gw.stop()
