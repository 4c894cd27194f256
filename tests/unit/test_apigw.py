"""API Gateway's rules as the core states them: route selection, error frames, ids, policies,
the @connections wire format and host names. (The emulator's authorizer rules are tested in
tests/local/test_authorizer_rules.py.)"""

from __future__ import annotations

import json
import re

import pytest
from wsgate.apigw import events, frames, hosts, limits, management, selection
from wsgate.apigw.proxy import connect_result, reply_body


@pytest.mark.parametrize(
    ("expression", "body", "expected"),
    [
        ("$request.body.action", '{"action": "join"}', "join"),
        ("$request.body.a.b", '{"a": {"b": "deep"}}', "deep"),
        (
            "${request.body.service}/${request.body.action}",
            '{"service": "chat", "action": "join"}',
            "chat/join",
        ),
        ("${request.body.action}-${request.body.invalidPath}", '{"action": "join"}', "join-"),
        ("\\$default", '{"action": "x"}', "$default"),
        ("action", '{"action": "x"}', "action"),
        ("$request.body.items", '{"items": ["item1", "item2"]}', "[item1, item2]"),
        ("$request.body.action", '{"action": ["a", "b"]}', "[a, b]"),
        ("$request.body.action", '{"action": null}', ""),
        ("$request.body.a[1]", '{"a": ["x", "y"]}', "y"),
        ("$request.body", '"join"', "join"),
        ("$request.body", '{"action": "join"}', '{"action":"join"}'),
        ("${request.body}", "[1, 2]", "[1, 2]"),
        ("$request.body[1]", '["a", "b"]', "b"),
        ("$context.routeKey", '{"action": "join"}', ""),
        ("$request.body.n", '{"n": 3}', "3"),
        ("$request.body.flag", '{"flag": true}', "true"),
        ("$request.body.action", "not json", None),
    ],
)
def test_selection_expression_evaluation(expression, body, expected):
    assert selection.evaluate(expression, body) == expected


def test_an_array_selects_the_text_the_aws_guide_shows_in_runtime_and_gateway(monkeypatch):
    # "if your JSONPath expression returns an array of two elements, that will be presented as
    # the string "[item1, item2]"" (AWS developer guide, "Working with routes for WebSocket APIs").
    # The runtime names the same action in its unknown_action frame as the gateway routes by.
    from wsgate._selection import selected_route
    from wsgate.events import Event

    body = '{"action": ["a", "b"]}'
    event = Event({"requestContext": {"routeKey": "$default"}, "body": body})
    assert selected_route(event) == "[a, b]"
    assert selection.select_route("$request.body.action", body, {"[a, b]"}) == "[a, b]"
    monkeypatch.setenv("WSGATE_ROUTE_SELECTION_EXPRESSION", "$request.body")
    assert selected_route(Event({"body": '"hello"'})) == "hello"


def test_only_an_expression_that_reads_the_body_needs_json():
    assert selection.uses_body("${request.body.service}/x")
    assert selection.uses_body("$request.body")
    assert not selection.uses_body("\\$default")
    assert not selection.uses_body("request.body.action")  # a literal, not a variable
    assert selection.evaluate("static", "not json") == "static"


def test_a_message_selecting_a_lifecycle_route_falls_through_to_default():
    keys = {"join", "$connect"}
    assert selection.select_route("$request.body.action", '{"action": "$connect"}', keys) == (
        "$default"
    )


def test_select_route_falls_back_to_default_or_nothing():
    keys = {"join", "say"}
    expr = "$request.body.action"
    assert selection.select_route(expr, '{"action": "join"}', keys) == "join"
    assert selection.select_route(expr, '{"action": "nope"}', keys) == "$default"
    assert selection.select_route(expr, "{", keys) == "$default"
    assert selection.select_route(expr, '{"action": "nope"}', keys, has_default=False) is None


def test_error_frame_has_api_gateways_exact_spacing():
    assert (
        frames.error_frame("Forbidden", "XDmENcnwIE0CFEQ=", "XDmGEE2RoE0FRdQ=")
        == '{"message": "Forbidden", "connectionId":"XDmENcnwIE0CFEQ=", '
        '"requestId":"XDmGEE2RoE0FRdQ="}'
    )


def test_ids_are_16_url_safe_base64_characters_ending_in_equals():
    ids = {events.new_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{15}=", i) for i in ids)


def test_request_time_is_common_log_format_in_utc():
    assert events.clf_time(1731324924553) == "11/Nov/2024:11:35:24 +0000"


def test_connect_event_matches_a_real_capture_field_for_field():
    # tests/events/powertools-lambda-python__apiGatewayWebSocketApiConnect.json, rebuilt
    conn = events.ConnectionInfo(
        "BFHPhfCWIAMCKlQ=",
        1731324924553,
        "166.90.225.1",
        "asasasas.execute-api.us-east-1.amazonaws.com",
        "prod",
        "asasasas",
    )
    headers = [
        ("Host", "fjnq7njcv2.execute-api.us-east-1.amazonaws.com"),
        ("Connection", "Upgrade"),
        ("Upgrade", "websocket"),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", "+W5xw47OHh3OTFsWKjGu9Q=="),
        ("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"),
        ("X-Amzn-Trace-Id", "Root=1-6731ebfc-08e1e656421db73c5d2eef31"),
        ("X-Forwarded-For", "166.90.225.1"),
        ("X-Forwarded-Port", "443"),
        ("X-Forwarded-Proto", "https"),
    ]
    built = events.connect_event(
        conn, headers, request_id="BFHPhFe3IAMF95g=", request_ms=1731324924561
    )
    import json
    from pathlib import Path

    capture = json.loads(
        (
            Path(__file__).parents[1]
            / "events"
            / "powertools-lambda-python__apiGatewayWebSocketApiConnect.json"
        ).read_text()
    )
    assert json.dumps(built) == json.dumps(capture)


def test_disconnect_status_for_a_close_without_code():
    assert limits.disconnect_status(0, "") == (1005, "Client-side close frame status not set")
    assert limits.disconnect_status(1001, "") == (1001, "")


def test_integration_results():
    assert connect_result(None).status == 200
    assert connect_result({"statusCode": 403}).status == 403
    assert connect_result({"statusCode": "nope"}) is None
    got = connect_result({"statusCode": 200, "headers": {"sec-websocket-protocol": "p", "X": "y"}})
    assert got.subprotocol == "p"
    assert reply_body({"statusCode": 500, "body": "b"}) == "b"
    assert reply_body({"statusCode": 200}) is None


def test_management_errors_carry_the_type_botocore_reads():
    headers, body = management.error_answer(410)
    assert headers["x-amzn-ErrorType"] == "GoneException"
    assert json.loads(body) == {"message": None}
    headers, body = management.error_answer(413, "Message too long. Max 131072")
    assert headers["x-amzn-ErrorType"] == "PayloadTooLargeException"
    assert json.loads(body) == {"message": "Message too long. Max 131072"}
    assert management.error_type(429) == "LimitExceededException"
    assert management.error_type(403) == "ForbiddenException"


def test_get_connection_document_has_iso_times_and_user_agent_only_when_sent():
    doc = management.connection_document(1731324924553, "1.2.3.4", None, 0)
    assert doc == {
        "connectedAt": "2024-11-11T11:35:24.553Z",
        "identity": {"sourceIp": "1.2.3.4"},
        "lastActiveAt": "2024-11-11T11:35:24.553Z",
    }


@pytest.mark.parametrize(
    ("domain", "stage", "base_path", "expected"),
    [
        (
            "abc.execute-api.eu-west-1.amazonaws.com",
            "prod",
            "",
            "https://abc.execute-api.eu-west-1.amazonaws.com/prod",
        ),
        ("ws.example.com", "prod", "", "https://ws.example.com"),
        ("ws.example.com", "prod", "/chat/", "https://ws.example.com/chat"),
        ("127.0.0.1:3001", "dev", "", "http://127.0.0.1:3001/dev"),
        ("[::1]:3001", "dev", "", "http://[::1]:3001/dev"),
        ("abc.execute-api.eu-west-1.amazonaws.com", None, "", None),
        ("", "dev", "", None),
    ],
)
def test_management_endpoint_of_a_host(domain, stage, base_path, expected):
    assert hosts.management_endpoint(domain, stage, base_path) == expected


def test_host_of_drops_the_port_but_keeps_ipv6_brackets():
    assert hosts.host_of("127.0.0.1:3001") == "127.0.0.1"
    assert hosts.host_of("[::1]:3001") == "[::1]"
    assert hosts.host_of("example.com") == "example.com"
    assert hosts.region_of("https://abc.execute-api.ap-southeast-2.amazonaws.com/x") == (
        "ap-southeast-2"
    )


def test_the_runtime_refuses_a_send_over_the_limit_the_gateway_enforces():
    from wsgate import messaging
    from wsgate.errors import SendTooLarge

    assert len(messaging.encode(b"x" * limits.MAX_POST_BYTES)) == limits.MAX_POST_BYTES
    with pytest.raises(SendTooLarge):
        messaging.encode(b"x" * (limits.MAX_POST_BYTES + 1))
