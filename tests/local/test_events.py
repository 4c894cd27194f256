"""The events handlers receive have API Gateway's shapes, field by field (see tests/events/)."""

from __future__ import annotations

import re

from local_support import connect_tagged

ID = re.compile(r"^[A-Za-z0-9_-]{15}=$")
CLF = re.compile(r"^\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000$")
CONTEXT_ORDER = [
    "routeKey",
    "eventType",
    "extendedRequestId",
    "requestTime",
    "messageDirection",
    "stage",
    "connectedAt",
    "requestTimeEpoch",
    "identity",
    "requestId",
    "domainName",
    "connectionId",
    "apiId",
]


def test_connect_event_carries_handshake_headers_query_and_identity(recorder):
    gw, record = recorder
    client, cid = connect_tagged(
        gw, record, query={"name": "alice"}, headers={"X-Custom": "1"}, user_agent_header="ua/1"
    )
    with client:
        event = record.event(cid, "CONNECT")
    assert list(event) == [
        "headers",
        "multiValueHeaders",
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "requestContext",
        "isBase64Encoded",
    ]
    headers = event["headers"]
    assert headers["X-Custom"] == "1"
    assert headers["X-Forwarded-For"] == "127.0.0.1"
    assert headers["X-Amzn-Trace-Id"].startswith("Root=1-")
    assert {"X-Forwarded-Port", "X-Forwarded-Proto", "Sec-WebSocket-Key", "Host"} <= set(headers)
    assert not {"connection", "upgrade", "content-length"} & {k.lower() for k in headers}
    assert event["multiValueHeaders"] == {k: [v] for k, v in headers.items()}
    assert event["queryStringParameters"]["name"] == "alice"
    assert event["multiValueQueryStringParameters"]["name"] == ["alice"]
    assert event["isBase64Encoded"] is False
    ctx = event["requestContext"]
    assert list(ctx) == CONTEXT_ORDER
    assert ctx["routeKey"] == "$connect" and ctx["eventType"] == "CONNECT"
    assert ctx["messageDirection"] == "IN" and ctx["stage"] == "dev"
    assert ID.match(ctx["connectionId"]) and ID.match(ctx["requestId"])
    assert ctx["extendedRequestId"] == ctx["requestId"]
    assert CLF.match(ctx["requestTime"])
    assert ctx["requestTimeEpoch"] >= ctx["connectedAt"] > 1_600_000_000_000
    assert ctx["identity"] == {"userAgent": "ua/1", "sourceIp": "127.0.0.1"}
    # the Host the client used, port included: http://{domainName}/{stage} is the endpoint
    assert ctx["domainName"] == f"127.0.0.1:{gw.gateway.port}"
    assert f"http://{ctx['domainName']}/{ctx['stage']}" == gw.endpoint


def test_connect_without_query_or_user_agent_has_neither(recorder):
    gw, record = recorder
    with gw.connect(user_agent_header=None):
        cid = gw.connection_ids()[-1]
        event = record.event(cid, "CONNECT")
    assert "queryStringParameters" not in event
    assert "multiValueQueryStringParameters" not in event
    assert event["requestContext"]["identity"] == {"sourceIp": "127.0.0.1"}


def test_message_event_has_body_and_message_id_but_no_headers(recorder):
    gw, record = recorder
    client, cid = connect_tagged(gw, record)
    with client:
        client.send('{"action": "echo",\r\n "x": 1}')
        assert client.recv_json()["route"] == "echo"
        event = record.event(cid, "MESSAGE")
        connect = record.event(cid, "CONNECT")
    assert list(event) == ["requestContext", "body", "isBase64Encoded"]
    assert event["body"] == '{"action": "echo",\r\n "x": 1}'
    ctx = event["requestContext"]
    assert list(ctx) == ["routeKey", "messageId", *CONTEXT_ORDER[1:]]
    assert ID.match(ctx["messageId"]) and ctx["messageId"] != ctx["requestId"]
    assert ctx["requestId"] != connect["requestContext"]["requestId"]
    assert ctx["connectedAt"] == connect["requestContext"]["connectedAt"]
    assert ctx["identity"] == connect["requestContext"]["identity"]


def test_disconnect_reports_the_clients_close_code_and_reason(recorder):
    gw, record = recorder
    client, cid = connect_tagged(gw, record)
    client.close(4001, "bye now")
    event = record.event(cid, "DISCONNECT")
    assert event["headers"] == {
        "Host": f"127.0.0.1:{gw.gateway.port}",  # the host the client used, as domainName
        "x-api-key": "",
        "X-Forwarded-For": "",
        "x-restapi": "",
    }
    assert event["multiValueHeaders"] == {k: [v] for k, v in event["headers"].items()}
    ctx = event["requestContext"]
    assert list(ctx)[:2] == ["routeKey", "disconnectStatusCode"]
    assert list(ctx)[6] == "disconnectReason"
    assert ctx["routeKey"] == "$disconnect" and ctx["eventType"] == "DISCONNECT"
    assert (ctx["disconnectStatusCode"], ctx["disconnectReason"]) == (4001, "bye now")
    assert "messageId" not in ctx and "body" not in event


def test_close_frame_without_a_code_is_reported_as_1005(recorder):
    gw, record = recorder
    client, cid = connect_tagged(gw, record)
    with client.ws.protocol_mutex:
        client.ws.protocol.send_close()  # a close frame with no status code
        client.ws.send_data()
    client.ws.close()
    ctx = record.event(cid, "DISCONNECT")["requestContext"]
    assert ctx["disconnectStatusCode"] == 1005
    assert ctx["disconnectReason"] == "Client-side close frame status not set"


def test_workers_get_lambda_environment_and_context(recorder):
    gw, record = recorder
    client, cid = connect_tagged(gw, record)
    with client:
        entry = record.wait_for(lambda e: e["event"]["requestContext"]["connectionId"] == cid)
    env = entry["env"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "recorder"
    assert env["WSGATE_ENDPOINT"] == gw.endpoint
    assert env["AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI"] == gw.endpoint
    assert env["WSGATE_TABLE"] == "recorder-connections"
    assert env["WSGATE_ROUTE_SELECTION_EXPRESSION"] == "$request.body.action"
    assert env["AWS_ENDPOINT_URL_DYNAMODB"] == gw.dynamodb_url
    assert env["AWS_ACCESS_KEY_ID"] and env["AWS_REGION"] == "us-east-1"
    assert env["RECORDER_GREETING"] == "from main.tf"
    assert entry["context"]["function_name"] == "recorder"
    # Lambda's deadline is the function's timeout (29 s by default), not API Gateway's 1.5 s
    assert 1500 < entry["context"]["remaining_ms"] <= 29_000
    assert entry["context"]["aws_request_id"]
