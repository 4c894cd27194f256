"""The typed event view reads every captured API Gateway event shape correctly."""

from __future__ import annotations

import base64
import json
import string
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from wsgate import BadRequest, Event

EVENTS = Path(__file__).resolve().parent.parent / "events"


def load(name: str) -> dict[str, Any]:
    # Two samples start with a UTF-8 byte-order mark; utf-8-sig reads both kinds.
    return json.loads((EVENTS / name).read_text(encoding="utf-8-sig"))


# file -> (route key, event type, connection id, request id)
SAMPLES = {
    "aws-lambda-dotnet__values-post-withbody-websocketapi-request.json": (
        "$default",
        "MESSAGE",
        "amJTNfeGLAMCLCQ=",
        "test-invoke-request",
    ),
    "aws-lambda-dotnet__websocket-api-connect-request.json": (
        "$connect",
        "CONNECT",
        "QyUg1czHCYcCHXw=",
        "QyUg1HJgCYcFvbw=",
    ),
    "aws-lambda-go__apigw-websocket-request-disconnect.json": (
        "$disconnect",
        "DISCONNECT",
        "R1kmxc2VNjMCFIA=",
        "R1koeHsUtjMFbRw=",
    ),
    "aws-lambda-go__apigw-websocket-request-send-message.json": (
        "$default",
        "MESSAGE",
        "R1kmxc2VNjMCFIA=",
        "R1knPH17NjMFftw=",
    ),
    "aws-lambda-go__apigw-websocket-request.json": (
        "$connect",
        "CONNECT",
        "TWegAcC4EowCHnA=",
        "deef4878-7910-11e6-8f14-25afc3e9ae33",
    ),
    "aws-lambda-rust-runtime__example-apigw-v2-custom-authorizer-websocket-request.json": (
        "$connect",
        "CONNECT",
        "connection-id",
        "req-id",
    ),
    "aws-lambda-rust-runtime__example-apigw-websocket-request-disconnect-route.json": (
        "$disconnect",
        "DISCONNECT",
        "AAAA1234=",
        "ABCD1234=",
    ),
    "aws-lambda-rust-runtime__example-apigw-websocket-request-without-method.json": (
        "$connect",
        "CONNECT",
        "asdfasdf=",
        "asdf=",
    ),
    "aws-lambda-rust-runtime__example-apigw-websocket-request.json": (
        "$connect",
        "CONNECT",
        "TWegAcC4EowCHnA=",
        "deef4878-7910-11e6-8f14-25afc3e9ae33",
    ),
    "awsdocs-apigateway-developer-guide__apigateway-websocket-api-lambda-auth__authorizer-input.json": (  # noqa: E501
        "$connect",
        "CONNECT",
        "...",
        "...",
    ),
    "powertools-lambda-python__apiGatewayAuthorizerWebSocketEvent.json": (
        "$connect",
        "CONNECT",
        "FDmBIeapIAMCIQg=",
        "FDmBIG3EoAMEqYA=",
    ),
    "powertools-lambda-python__apiGatewayWebSocketApiConnect.json": (
        "$connect",
        "CONNECT",
        "BFHPhfCWIAMCKlQ=",
        "BFHPhFe3IAMF95g=",
    ),
    "powertools-lambda-python__apiGatewayWebSocketApiDisconnect.json": (
        "$disconnect",
        "DISCONNECT",
        "BFaT_fALIAMCKug=",
        "BFbOeE87IAMF31w=",
    ),
    "powertools-lambda-python__apiGatewayWebSocketApiMessage.json": (
        "chat",
        "MESSAGE",
        "BFaT_fALIAMCKug=",
        "BFaVtH2HoAMFZEQ=",
    ),
}


# Hand-made fixtures that put a body on a CONNECT event (see PROVENANCE.md).
HYBRID = {
    "aws-lambda-go__apigw-websocket-request.json",
    "aws-lambda-rust-runtime__example-apigw-websocket-request.json",
}


def test_every_sample_file_is_covered() -> None:
    assert sorted(SAMPLES) == sorted(p.name for p in EVENTS.glob("*.json"))


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_parses_with_route_type_and_ids(name: str) -> None:
    route_key, event_type, connection_id, request_id = SAMPLES[name]
    event = Event(load(name))
    assert event.route_key == route_key
    assert event.event_type == event_type
    assert event.connection_id == connection_id
    assert event.request_id == request_id
    # Every typed property answers without raising, with the declared type.
    assert isinstance(event.stage, str) and event.stage
    assert isinstance(event.api_id, str) and event.api_id
    assert isinstance(event.domain_name, str) and event.domain_name
    assert isinstance(event.connected_at, int)
    assert isinstance(event.request_time_epoch, int)
    assert isinstance(event.source_ip, str)
    assert event.user_agent is None or isinstance(event.user_agent, str)
    assert isinstance(dict(event.headers), dict)
    assert isinstance(dict(event.query), dict)
    assert isinstance(dict(event.authorizer), dict)
    assert event.body is None or isinstance(event.body, str)
    if event_type != "MESSAGE" and name not in HYBRID:
        assert event.body is None


def test_message_capture_body_and_json() -> None:
    event = Event(load("powertools-lambda-python__apiGatewayWebSocketApiMessage.json"))
    assert event.body == '{"action": "chat", "message": "Hello from client"}'
    assert event.json == {"action": "chat", "message": "Hello from client"}
    assert event.message_id == "BFaVtfGSIAMCKug="
    assert event.connected_at == 1731332735513
    assert event.request_time_epoch == 1731332746514
    assert event.stage == "prod"
    assert event.headers.get("host") is None  # MESSAGE events carry no headers


def test_body_with_windows_line_endings_is_kept_as_sent() -> None:
    event = Event(load("aws-lambda-go__apigw-websocket-request-send-message.json"))
    assert event.body == '{\r\n\t"a": 1\r\n}'
    assert event.json == {"a": 1}
    assert event.user_agent is not None and event.user_agent.startswith("Mozilla/5.0")


def test_disconnect_captures_give_close_code_and_reason() -> None:
    chrome = Event(load("aws-lambda-go__apigw-websocket-request-disconnect.json"))
    assert (chrome.disconnect_status_code, chrome.disconnect_reason) == (1001, "")
    powertools = Event(load("powertools-lambda-python__apiGatewayWebSocketApiDisconnect.json"))
    assert powertools.disconnect_status_code == 1005
    assert powertools.disconnect_reason == "Client-side close frame status not set"
    # The fixed DISCONNECT header set is readable, case-insensitively.
    assert powertools.headers["host"] == powertools.headers["Host"]
    assert powertools.headers.get_all("X-API-KEY") == [""]


def test_connect_headers_are_case_insensitive_and_multi_value() -> None:
    event = Event(load("aws-lambda-dotnet__websocket-api-connect-request.json"))
    assert event.headers["headerauth1"] == event.headers["HeaderAuth1"]
    assert event.headers.get_all("headerAUTH1") == [event.headers["HeaderAuth1"]]
    assert "sec-websocket-key" in event.headers
    assert event.headers.get("no-such-header") is None
    assert event.headers.get_all("no-such-header") == []
    assert event.stage == "production"
    assert event.identity == {"sourceIp": "52.95.4.0"}


def test_repeated_query_parameters_keep_every_value() -> None:
    raw = {
        "requestContext": {"routeKey": "$connect", "eventType": "CONNECT", "connectionId": "c"},
        "queryStringParameters": {"room": "b", "name": "alice"},
        "multiValueQueryStringParameters": {"room": ["a", "b"], "name": ["alice"]},
    }
    event = Event(raw)
    assert event.query["ROOM"] == "b"
    assert event.query.get_all("room") == ["a", "b"]
    assert event.query["name"] == "alice"


def test_api_key_identity_fields_are_exposed() -> None:
    event = Event(
        load("aws-lambda-rust-runtime__example-apigw-websocket-request-without-method.json")
    )
    assert event.identity["apiKey"] == "asdfasdf"
    assert event.identity["apiKeyId"] == "asdf"
    assert event.source_ip == "10.0.0.13"


def test_reserialized_nulls_read_as_absent() -> None:
    event = Event(load("aws-lambda-dotnet__values-post-withbody-websocketapi-request.json"))
    assert dict(event.headers) == {}
    assert dict(event.query) == {}
    assert dict(event.authorizer) == {}
    assert event.user_agent is None
    assert event.principal_id is None
    assert event.json == {"firstName": "Smith", "lastName": "Agent"}


def test_authorizer_context_is_read_from_the_request_context() -> None:
    event = Event(load("aws-lambda-go__apigw-websocket-request.json"))
    assert event.authorizer["clientId"] == 1
    assert event.principal_id == "admin"


def test_authorizer_input_exposes_method_arn() -> None:
    event = Event(load("powertools-lambda-python__apiGatewayAuthorizerWebSocketEvent.json"))
    assert event.method_arn == (
        "arn:aws:execute-api:us-east-1:533568316194:c5jwxq709g/production/$connect"
    )
    assert event.headers.get_all("Sec-WebSocket-Key")  # only in multiValueHeaders here


def test_base64_body_is_decoded() -> None:
    raw = {
        "requestContext": {"routeKey": "$default", "eventType": "MESSAGE", "connectionId": "c"},
        "body": base64.b64encode('{"text": "héllo"}'.encode()).decode(),
        "isBase64Encoded": True,
    }
    event = Event(raw)
    assert event.body == '{"text": "héllo"}'
    assert event.body_bytes == '{"text": "héllo"}'.encode()
    assert event.json == {"text": "héllo"}


def test_invalid_json_raises_bad_request_every_time() -> None:
    raw = {"requestContext": {"routeKey": "$default", "connectionId": "c"}, "body": "not json"}
    event = Event(raw)
    for _ in range(2):
        with pytest.raises(BadRequest):
            _ = event.json
    with pytest.raises(BadRequest):
        _ = Event({"requestContext": {"routeKey": "say"}}).json


def test_hand_made_event_with_an_object_body_reads_as_its_json() -> None:
    event = Event({"requestContext": {"routeKey": "say"}, "body": {"text": "hi"}})
    assert event.body == '{"text":"hi"}'
    assert event.json == {"text": "hi"}


def test_json_is_parsed_once() -> None:
    event = Event({"requestContext": {"routeKey": "say"}, "body": '{"a": [1]}'})
    assert event.json is event.json


def test_event_is_read_only_and_keeps_the_raw_dict() -> None:
    raw = load("powertools-lambda-python__apiGatewayWebSocketApiMessage.json")
    event = Event(raw)
    assert event.raw is raw
    with pytest.raises(AttributeError):
        event.connection_id = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        event.raw = {}  # type: ignore[misc]


def test_region_comes_from_the_function_arn_then_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    raw = load("powertools-lambda-python__apiGatewayWebSocketApiMessage.json")
    context = SimpleNamespace(
        invoked_function_arn="arn:aws:lambda:eu-west-3:123456789012:function:chat"
    )
    assert Event(raw, context).region == "eu-west-3"
    assert Event(raw, context).lambda_context is context
    monkeypatch.setenv("AWS_REGION", "ap-south-1")
    assert Event(raw).region == "ap-south-1"


def test_missing_event_type_is_inferred_from_the_route_key() -> None:
    assert Event({"requestContext": {"routeKey": "$connect"}}).event_type == "CONNECT"
    assert Event({"requestContext": {"routeKey": "$disconnect"}}).event_type == "DISCONNECT"
    assert Event({"requestContext": {"routeKey": "say"}}).event_type == "MESSAGE"
    empty = Event({})
    assert (empty.route_key, empty.connection_id, empty.connected_at) == (None, None, None)


def test_every_missing_value_is_none_never_an_empty_string() -> None:
    empty = Event({"requestContext": {"connectionId": "", "stage": None}})
    for name in ("connection_id", "route_key", "request_id", "stage", "domain_name", "api_id"):
        assert getattr(empty, name) is None, name
    for name in ("message_id", "connected_at", "principal_id", "body", "method_arn", "source_ip"):
        assert getattr(empty, name) is None, name


header_names = st.text(alphabet=string.ascii_letters + "-", min_size=1, max_size=20)
header_values = st.text(alphabet=string.printable, max_size=30)


@given(
    headers=st.dictionaries(header_names, st.lists(header_values, min_size=1, max_size=3)),
    data=st.data(),
)
def test_any_spelling_of_a_header_name_finds_its_values(
    headers: dict[str, list[str]], data: st.DataObject
) -> None:
    # API Gateway's pair of maps: the single map holds the last value of each name.
    unique = {name.lower(): (name, values) for name, values in headers.items()}
    multi = {name: values for name, values in unique.values()}
    single = {name: values[-1] for name, values in unique.values()}
    view = Event({"headers": single, "multiValueHeaders": multi}).headers
    for name, values in multi.items():
        spelling = "".join(c.upper() if data.draw(st.booleans()) else c.lower() for c in name)
        assert view[spelling] == values[-1]
        assert view.get_all(spelling) == values
        assert spelling in view
    assert len(view) == len(multi)
