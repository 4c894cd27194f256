"""examples/zappa-migration: Zappa's two announced apps, moved over by their import line only.

``src/app.py`` is the decorator app and ``src/chatroom.py`` the ``ZappaWebSocketServer`` class
app (it keeps members in its own DynamoDB table), each with its Flask route. Both run under the
local gateway, driven by a real WebSocket client and an HTTP client on its HTTP API; the Flask
route also answers an HTTP API event given to the handler in-process; the Terraform part plans
and applies offline.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from wsgate_local.testing import running_gateway

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "zappa-migration"
sys.path.insert(0, str(ROOT / "tools"))

from tfoffline import Terraform  # noqa: E402


@pytest.fixture(scope="module")
def decorators() -> Iterator[Any]:
    # One gateway per app: its connections are independent, and starting one costs seconds.
    with running_gateway(EXAMPLE, workers=1, quiet=True) as gw:
        yield gw


@pytest.fixture(scope="module")
def chatroom() -> Iterator[Any]:
    # TF_VAR_app picks the class app, as `terraform apply -var app=chatroom` does.
    mp = pytest.MonkeyPatch()
    mp.setenv("TF_VAR_app", "chatroom")
    try:
        with running_gateway(EXAMPLE, workers=1, quiet=True) as gw:
            # The app's own table, created as its owner would (aws dynamodb create-table ...).
            gw.dynamodb_client().create_table(
                TableName="zappa-migration-chatroom",
                BillingMode="PAY_PER_REQUEST",
                KeySchema=[
                    {"AttributeName": "room", "KeyType": "HASH"},
                    {"AttributeName": "connection_id", "KeyType": "RANGE"},
                ],
                AttributeDefinitions=[
                    {"AttributeName": "room", "AttributeType": "S"},
                    {"AttributeName": "connection_id", "AttributeType": "S"},
                ],
            )
            yield gw
    finally:
        mp.undo()


# -- the decorator app under wsgate local ------------------------------------------------------
def test_decorator_app_echoes_json_through_send_message(decorators: Any) -> None:
    with decorators.connect() as client:
        client.send_json({"text": "hello", "n": [1, None]})
        assert client.recv_json() == {"echo": {"text": "hello", "n": [1, None]}}


def test_a_handler_exception_gives_the_client_api_gateways_internal_error(decorators: Any) -> None:
    # json.loads("plain words") raises in the unchanged handler: the exception reaches "Lambda"
    # and the client gets what API Gateway sends for a failed integration.
    with decorators.connect() as client:
        client.send("plain words")
        frame = client.recv_json()
        assert frame["message"] == "Internal server error"
        assert frame["connectionId"] and frame["requestId"]
        client.send_json({"still": "open"})
        assert client.recv_json() == {"echo": {"still": "open"}}


# -- the class app under wsgate local ----------------------------------------------------------
def test_chatroom_class_app_broadcasts_to_every_member(chatroom: Any) -> None:
    with chatroom.connect() as alice, chatroom.connect() as bob:
        alice.send_json({"text": "hi all"})
        seen_by_alice = alice.recv_json()
        seen_by_bob = bob.recv_json()
        assert seen_by_alice == seen_by_bob
        assert seen_by_bob["message"] == {"text": "hi all"}
        assert seen_by_bob["from"] in chatroom.connection_ids()


def test_chatroom_forgets_members_that_left(chatroom: Any) -> None:
    table = chatroom.dynamodb_client()

    def members() -> set[str]:
        items = table.query(
            TableName="zappa-migration-chatroom",
            KeyConditionExpression="room = :r",
            ExpressionAttributeValues={":r": {"S": "lobby"}},
        )["Items"]
        return {item["connection_id"]["S"] for item in items}

    with chatroom.connect() as carol:
        carol.send_json({"text": "ping"})
        carol.recv_json()
        assert members() == set(chatroom.connection_ids())  # carol, recorded by on_connect
        assert len(members()) == 1
    # Closing runs $disconnect: ChatRoom.on_disconnect deletes the item.
    deadline = time.monotonic() + 10
    while members() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert members() == set()


# -- the Flask route ---------------------------------------------------------------------------
@pytest.mark.parametrize("module", ["app", "chatroom"])
def test_flask_route_answers_through_the_same_handler(
    module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wsgate.compat import zappa

    monkeypatch.syspath_prepend(str(EXAMPLE / "src"))
    monkeypatch.setenv("WSGATE_ZAPPA_MODULE", module)
    monkeypatch.setenv("WSGATE_ZAPPA_APP_FUNCTION", f"{module}.app")
    monkeypatch.setenv("CHATROOM_TABLE", "zappa-migration-chatroom")
    zappa._reset()
    try:
        event = {
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": "/",
            "rawQueryString": "",
            "headers": {"host": "h77x1yty8h.execute-api.us-east-1.amazonaws.com"},
            "requestContext": {
                "apiId": "h77x1yty8h",
                "domainName": "h77x1yty8h.execute-api.us-east-1.amazonaws.com",
                "http": {
                    "method": "GET",
                    "path": "/",
                    "protocol": "HTTP/1.1",
                    "sourceIp": "203.0.113.7",
                    "userAgent": "curl/8.5.0",
                },
                "requestId": "JKJaXmPLvHcESHA=",
                "routeKey": "$default",
                "stage": "$default",
                "timeEpoch": 1796302800000,
            },
            "isBase64Encoded": False,
        }
        response = zappa.handler(event, None)
        assert response["statusCode"] == 200
        assert json.loads(response["body"]) == {"status": "ok"}
    finally:
        zappa._reset()
        sys.modules.pop(module, None)


# -- Terraform, offline ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def applied() -> Iterator[dict[str, Any]]:
    with Terraform(EXAMPLE) as tf:
        tf.plan(variables={"app": "chatroom"})
        outputs = tf.apply(variables={"app": "chatroom"})
        yield {"outputs": outputs, "state": tf.state(), "workdir": tf.workdir}


def _resources(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}

    def walk(module: dict[str, Any]) -> None:
        for res in module.get("resources", []):
            found[res["address"]] = res["values"]
        for child in module.get("child_modules", []):
            walk(child)

    walk(state["values"]["root_module"])
    return found


def test_one_function_serves_websocket_and_http(applied: dict[str, Any]) -> None:
    res = _resources(applied["state"])
    function = res["module.ws.aws_lambda_function.dispatcher"]
    assert function["handler"] == "wsgate.compat.zappa.handler"
    env = function["environment"][0]["variables"]
    assert env["WSGATE_ZAPPA_MODULE"] == "chatroom"
    assert env["WSGATE_ZAPPA_APP_FUNCTION"] == "chatroom.app"
    assert env["CHATROOM_TABLE"] == "zappa-migration-chatroom"
    http = res["module.ws.aws_apigatewayv2_integration.http[0]"]
    assert http["integration_uri"] == function["invoke_arn"]
    out = applied["outputs"]
    assert out["http_api_url"].startswith("https://") and out["http_api_url"].endswith("/")
    assert out["websocket_url"].startswith("wss://") and out["websocket_url"].endswith("/dev")


def test_the_zip_carries_both_apps_their_requirements_and_the_compat_layer(
    applied: dict[str, Any],
) -> None:
    import zipfile

    function = _resources(applied["state"])["module.ws.aws_lambda_function.dispatcher"]
    names = set(zipfile.ZipFile(applied["workdir"] / function["filename"]).namelist())
    assert {
        "app.py",
        "chatroom.py",
        "wsgate/compat/zappa.py",
        "wsgate/compat/_zappa_http.py",
    } <= names
    # src/requirements.txt: the app's Flask and the WSGI adapter the compat handler imports.
    assert {"flask/__init__.py", "apig_wsgi/__init__.py", "werkzeug/__init__.py"} <= names


def test_the_apps_own_table_is_granted_to_the_function_and_nothing_more(
    applied: dict[str, Any],
) -> None:
    res = _resources(applied["state"])
    table = res["aws_dynamodb_table.chatroom"]
    role = res["module.ws.aws_iam_role.dispatcher"]
    grant = res["aws_iam_role_policy.chatroom_table"]
    assert grant["role"] == role["name"]
    [statement] = json.loads(grant["policy"])["Statement"]
    assert statement["Resource"] == table["arn"]
    assert sorted(statement["Action"]) == [
        "dynamodb:DeleteItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
    ]


def test_the_app_variable_accepts_only_the_two_apps() -> None:
    from tfoffline import TerraformError

    with Terraform(EXAMPLE) as tf, pytest.raises(TerraformError, match="app must be"):
        tf.plan(variables={"app": "flask"})


# -- the Flask route under wsgate local (the module's http_api = true) ------------------------
def test_local_gateway_serves_the_flask_route_on_its_http_api(decorators: Any) -> None:
    import urllib.request

    assert decorators.http_url is not None
    with urllib.request.urlopen(decorators.http_url, timeout=30) as response:
        assert response.status == 200
        assert json.loads(response.read()) == {"status": "ok"}


def test_local_http_api_gives_flasks_404_for_an_unknown_path(decorators: Any) -> None:
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(decorators.http_url + "nowhere", timeout=30)
    assert missing.value.code == 404


def test_chatroom_serves_http_and_websocket_from_one_gateway(chatroom: Any) -> None:
    import urllib.request

    with urllib.request.urlopen(chatroom.http_url, timeout=30) as response:
        assert json.loads(response.read()) == {"status": "ok"}
