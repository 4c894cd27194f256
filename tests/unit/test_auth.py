"""@authorizer turns a function returning a principal into a WebSocket REQUEST authorizer."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from wsgate import ConfigurationError, Forbidden, Unauthorized, authorizer
from wsgate.auth import AuthRequest

EVENTS = Path(__file__).resolve().parent.parent / "events"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXZhbHVl"


def load(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text(encoding="utf-8-sig"))


POWERTOOLS = "powertools-lambda-python__apiGatewayAuthorizerWebSocketEvent.json"
AWSDOCS = "awsdocs-apigateway-developer-guide__apigateway-websocket-api-lambda-auth__authorizer-input.json"  # noqa: E501
RUST = "aws-lambda-rust-runtime__example-apigw-v2-custom-authorizer-websocket-request.json"

USERS = {"Leo": "user-leo"}


@authorizer
def by_header(request: AuthRequest) -> Any:
    user = USERS.get(request.token or "")
    if user is None:
        raise Unauthorized("unknown token")
    return user, {"plan": "pro", "seats": 3, "ratio": 0.5, "admin": False}


def test_allow_policy_on_the_method_arn_with_principal_and_context() -> None:
    event = load(POWERTOOLS)
    assert by_header(event, None) == {
        "principalId": "user-leo",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": event["methodArn"],
                }
            ],
        },
        "context": {"plan": "pro", "seats": 3, "ratio": 0.5, "admin": False},
    }


def test_unauthorized_fails_with_the_literal_error_api_gateway_turns_into_401() -> None:
    event = load(POWERTOOLS)
    event["headers"]["Authorization"] = "Mallory"
    with pytest.raises(Exception) as info:
        by_header(event, None)
    assert type(info.value) is Exception
    assert str(info.value) == "Unauthorized"


def test_forbidden_returns_a_deny_policy() -> None:
    @authorizer
    def banned(request: AuthRequest) -> str:
        raise Forbidden("banned")

    event = load(POWERTOOLS)
    result = banned(event, None)
    [statement] = result["policyDocument"]["Statement"]
    assert statement == {
        "Action": "execute-api:Invoke",
        "Effect": "Deny",
        "Resource": event["methodArn"],
    }
    assert "context" not in result


def test_token_from_a_custom_header_then_a_query_parameter() -> None:
    seen: list[tuple[str | None, str | None]] = []

    @authorizer(header="HeaderAuth1", query_params=("QueryString1",))
    def custom(request: AuthRequest) -> str:
        seen.append((request.token, request.token_source))
        return "someone"

    event = load(AWSDOCS)
    custom(event, None)
    del event["headers"]["HeaderAuth1"]
    del event["multiValueHeaders"]["HeaderAuth1"]
    custom(event, None)
    assert seen == [("headerValue1", "header"), ("queryValue1", "query")]


def test_bearer_scheme_is_stripped_from_the_authorization_header() -> None:
    event = load(POWERTOOLS)
    event["headers"]["Authorization"] = "Bearer Leo"
    assert by_header(event, None)["principalId"] == "user-leo"


def test_token_sent_as_a_browser_subprotocol_is_found() -> None:
    seen: list[Any] = []

    @authorizer
    def browser(request: AuthRequest) -> str:
        seen.append((request.token, request.token_source, request.subprotocols))
        return "alice"

    for offered in (f"bearer, {JWT}", f"chat, {JWT}"):
        event = load(POWERTOOLS)
        del event["headers"]["Authorization"]
        del event["multiValueHeaders"]["Authorization"]
        event["headers"]["Sec-WebSocket-Protocol"] = offered
        event["multiValueHeaders"]["Sec-WebSocket-Protocol"] = [offered]
        browser(event, None)
    assert seen == [
        (JWT, "subprotocol", ["bearer", JWT]),
        (JWT, "subprotocol", ["chat", JWT]),
    ]


def test_missing_token_and_no_principal_are_unauthorized() -> None:
    @authorizer
    def needs_token(request: AuthRequest) -> str | None:
        return None if request.token is None else "x"

    event = load(RUST)  # carries neither Authorization nor a token parameter
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        needs_token(event, None)


def test_context_values_must_be_scalars() -> None:
    @authorizer
    def nested(request: AuthRequest) -> Any:
        return "leo", {"roles": ["admin"]}

    with pytest.raises(ConfigurationError, match="'roles' is a list"):
        nested(load(POWERTOOLS), None)


def test_result_over_8_kb_is_refused_with_a_clear_error() -> None:
    @authorizer
    def chatty(request: AuthRequest) -> Any:
        return "leo", {"blob": "x" * 8200}

    with pytest.raises(ConfigurationError, match="8 KB"):
        chatty(load(POWERTOOLS), None)


def test_the_token_never_reaches_the_logs(log_lines: list[dict[str, Any]]) -> None:
    event = load(POWERTOOLS)
    event = copy.deepcopy(event)
    event["headers"]["Authorization"] = "Leo"
    by_header(event, None)
    assert log_lines, "the authorizer logs its decision"
    assert all("Leo" not in json.dumps(line) for line in log_lines)
    assert log_lines[-1]["tokenSource"] == "header"
