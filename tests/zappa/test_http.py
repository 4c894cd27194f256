"""HTTP events reaching ``wsgate.compat.zappa.handler`` are answered by the app's Flask/ASGI app.

The events have the shapes AWS documents for Lambda proxy integrations: HTTP API payload 2.0,
REST API payload 1.0 and an Application Load Balancer target (see the links on each builder).
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from wsgate import ConfigurationError
from wsgate.compat import zappa

FLASK_APP = """
import json

from flask import Flask, request
from wsgate.compat.zappa import on_connect, on_message, send_message

app = Flask(__name__)


@app.route("/")
def index():
    return {"status": "ok"}


@app.route("/items/<name>", methods=["POST"])
def add(name):
    return {"name": name, "json": request.get_json(), "q": request.args.getlist("tag"),
            "agent": request.headers.get("User-Agent")}, 201


@app.route("/logo.png")
def logo():
    return b"\\x89PNG\\r\\n\\x1a\\n\\x00\\xff", 200, {"Content-Type": "image/png"}


@on_connect
def connect(event, context):
    return {"statusCode": 200}


@on_message
def message(event, context):
    send_message(event["requestContext"]["connectionId"], {"echo": json.loads(event["body"])})
    return {"statusCode": 200}
"""

ASGI_APP = """
async def app(scope, receive, send):
    assert scope["type"] == "http"
    body = json.dumps({"path": scope["path"], "method": scope["method"]}).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})

import json
"""


@pytest.fixture
def load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Write ``source`` as the app module and point the compat handler at it."""
    written: list[str] = []

    def write(source: str, app_function: str | None = None) -> str:
        name = f"http_app_{len(written)}_{id(tmp_path)}"
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        written.append(name)
        monkeypatch.setenv("WSGATE_ZAPPA_MODULE", name)
        if app_function:
            monkeypatch.setenv("WSGATE_ZAPPA_APP_FUNCTION", app_function.format(module=name))
        return name

    monkeypatch.syspath_prepend(str(tmp_path))
    zappa._reset()
    yield write
    zappa._reset()
    for name in written:
        sys.modules.pop(name, None)


def http_api_v2(method: str, path: str, *, body: str | None = None, query: str = "") -> dict:
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {
            "host": "h77x1yty8h.execute-api.us-east-1.amazonaws.com",
            "user-agent": "curl/8.5.0",
            "content-type": "application/json",
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "h77x1yty8h",
            "domainName": "h77x1yty8h.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "h77x1yty8h",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "curl/8.5.0",
            },
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": "$default",
            "stage": "$default",
            "time": "03/Dec/2026:13:00:00 +0000",
            "timeEpoch": 1796302800000,
        },
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = dict(p.split("=", 1) for p in query.split("&"))
    if body is not None:
        event["body"] = body
    return event


def rest_api_v1(method: str, path: str, *, body: str | None = None, query: str = "") -> dict:
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
    pairs = [p.split("=", 1) for p in query.split("&")] if query else []
    multi: dict[str, list[str]] = {}
    for key, value in pairs:
        multi.setdefault(key, []).append(value)
    headers = {
        "Host": "abc123.execute-api.us-east-1.amazonaws.com",
        "User-Agent": "curl/8.5.0",
        "Content-Type": "application/json",
    }
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in multi.items()} or None,
        "multiValueQueryStringParameters": multi or None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/prod{path}",
            "stage": "prod",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "curl/8.5.0"},
            "apiId": "abc123",
        },
        "body": body,
        "isBase64Encoded": False,
    }


def alb(method: str, path: str, *, body: str | None = None, query: str = "") -> dict:
    # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html
    return {
        "requestContext": {
            "elb": {
                "targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:"
                "targetgroup/lambda-279XGJDqGZ5rsrHC2Fjr/49e9d65c45c6791a"
            }
        },
        "httpMethod": method,
        "path": path,
        "queryStringParameters": dict(p.split("=", 1) for p in query.split("&")) if query else {},
        "headers": {
            "host": "lambda-alb-123578498.us-east-1.elb.amazonaws.com",
            "user-agent": "curl/8.5.0",
            "content-type": "application/json",
        },
        "body": body or "",
        "isBase64Encoded": False,
    }


EVENTS = {"http-api-v2": http_api_v2, "rest-api-v1": rest_api_v1, "alb": alb}


def body_of(response: dict) -> bytes:
    raw = response.get("body") or ""
    return base64.b64decode(raw) if response.get("isBase64Encoded") else raw.encode()


@pytest.mark.parametrize("kind", EVENTS)
def test_flask_answers_get_root_on_every_http_event_kind(load: Any, kind: str) -> None:
    load(FLASK_APP)
    response = zappa.handler(EVENTS[kind]("GET", "/"), None)
    assert response["statusCode"] == 200
    assert json.loads(body_of(response)) == {"status": "ok"}


@pytest.mark.parametrize("kind", EVENTS)
def test_flask_gets_method_path_query_headers_and_body(load: Any, kind: str) -> None:
    load(FLASK_APP)
    event = EVENTS[kind]("POST", "/items/lamp", body='{"watts": 40}', query="tag=new")
    response = zappa.handler(event, None)
    assert response["statusCode"] == 201
    assert json.loads(body_of(response)) == {
        "name": "lamp",
        "json": {"watts": 40},
        "q": ["new"],
        "agent": "curl/8.5.0",
    }


@pytest.mark.parametrize("kind", EVENTS)
def test_unknown_path_is_flasks_404(load: Any, kind: str) -> None:
    load(FLASK_APP)
    assert zappa.handler(EVENTS[kind]("GET", "/nowhere"), None)["statusCode"] == 404


@pytest.mark.parametrize("kind", ["http-api-v2", "alb"])
def test_binary_response_is_base64_encoded_where_the_front_end_decodes_it(
    load: Any, kind: str
) -> None:
    load(FLASK_APP)
    response = zappa.handler(EVENTS[kind]("GET", "/logo.png"), None)
    assert response["isBase64Encoded"] is True
    assert body_of(response) == b"\x89PNG\r\n\x1a\n\x00\xff"


def test_websocket_events_still_reach_the_websocket_handlers(
    load: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from unittest.mock import patch

    load(FLASK_APP)
    event = {
        "requestContext": {
            "eventType": "MESSAGE",
            "routeKey": "$default",
            "connectionId": "c1=",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "stage": "dev",
        },
        "body": '{"text": "hi"}',
    }
    with patch("boto3.client") as factory:
        assert zappa.handler(event, None) == {"statusCode": 200}
    factory.return_value.post_to_connection.assert_called_once_with(
        ConnectionId="c1=", Data=b'{"echo": {"text": "hi"}}'
    )


def test_app_function_names_the_app_as_zappas_setting_did(load: Any) -> None:
    load(
        FLASK_APP.replace("app = Flask", "server = Flask").replace("@app.", "@server."),
        "{module}.server",
    )
    response = zappa.handler(http_api_v2("GET", "/"), None)
    assert json.loads(body_of(response)) == {"status": "ok"}


@pytest.mark.parametrize("kind", EVENTS)
def test_asgi_app_goes_through_mangum(load: Any, kind: str) -> None:
    load(ASGI_APP)
    response = zappa.handler(EVENTS[kind]("DELETE", "/things/1"), None)
    assert response["statusCode"] == 200
    assert json.loads(body_of(response)) == {"path": "/things/1", "method": "DELETE"}


def test_missing_adapter_names_the_package_for_requirements_txt(
    load: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(FLASK_APP)
    monkeypatch.setitem(sys.modules, "apig_wsgi", None)  # as if not installed
    with pytest.raises(ConfigurationError, match=r"add apig-wsgi to the requirements\.txt"):
        zappa.handler(http_api_v2("GET", "/"), None)


def test_missing_app_names_the_setting(load: Any) -> None:
    load("x = 1\n", "{module}.app")
    with pytest.raises(ConfigurationError, match="WSGATE_ZAPPA_APP_FUNCTION"):
        zappa.handler(http_api_v2("GET", "/"), None)


def test_an_event_of_another_source_gets_a_clear_error(load: Any) -> None:
    load(FLASK_APP)
    scheduled = {"detail-type": "Scheduled Event", "source": "aws.events", "resources": []}
    with pytest.raises(ConfigurationError, match="neither an API Gateway WebSocket event nor"):
        zappa.handler(scheduled, None)


def test_importing_compat_loads_no_http_adapter() -> None:
    # The runtime stays stdlib + boto3: the adapters are the app's, imported on an HTTP event.
    code = (
        "import sys, wsgate.compat.zappa\n"
        "print(sorted(m for m in ('apig_wsgi', 'mangum', 'flask', 'boto3') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
