"""Zappa's documented WebSocket examples run on wsgate with only the import changed.

The two examples from Zappa's ``zappa.websocket`` documentation (decorators, and a
``ZappaWebSocketServer`` subclass) are re-typed below with ``from zappa.websocket`` replaced by
``from wsgate.compat.zappa``, written to a module, and run through ``wsgate.compat.zappa.handler``
the way Lambda would; messages reach a real @connections server through boto3.
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mgmt_stub import ManagementStub, clean_env, mgmt  # noqa: F401 - fixtures
from wsgate.compat import zappa

DECORATOR_EXAMPLE = """
from wsgate.compat.zappa import on_connect, on_disconnect, on_message, send_message

@on_connect
def handle_connect(event, context):
    return {"statusCode": 200}

@on_disconnect
def handle_disconnect(event, context):
    return {"statusCode": 200}

@on_message
def handle_message(event, context):
    connection_id = event["requestContext"]["connectionId"]
    send_message(connection_id, {"msg": "hello"})
    return {"statusCode": 200}
"""

CLASS_EXAMPLE = """
from wsgate.compat.zappa import ZappaWebSocketServer, send_message

class MyWebSocket(ZappaWebSocketServer):
    def on_connect(self, event, context):
        return {"statusCode": 200}

    def on_message(self, event, context):
        connection_id = event["requestContext"]["connectionId"]
        send_message(connection_id, {"echo": event["body"]})
        return {"statusCode": 200}
"""


@pytest.fixture
def load_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Write an app module; the compat handler imports it on the first event, as on Lambda."""
    names: list[str] = []

    def write(source: str) -> str:
        name = f"zappa_app_{len(names)}_{id(tmp_path)}"
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        names.append(name)
        monkeypatch.setenv("WSGATE_ZAPPA_MODULE", name)
        return name

    monkeypatch.syspath_prepend(str(tmp_path))
    zappa._reset()
    yield write
    zappa._reset()
    for name in names:
        sys.modules.pop(name, None)


@pytest.fixture
def client(mgmt: ManagementStub, monkeypatch: pytest.MonkeyPatch) -> ManagementStub:  # noqa: F811
    monkeypatch.setenv("WSGATE_ENDPOINT", mgmt.endpoint)
    mgmt.connect("conn-1=")
    return mgmt


def test_decorator_example_runs_unchanged(
    load_app: Any, client: ManagementStub, apigw: Any
) -> None:
    load_app(DECORATOR_EXAMPLE)
    assert zappa.handler(apigw.connect(), None) == {"statusCode": 200}
    assert zappa.handler(apigw.message("$default", {"action": "anything"}), None) == {
        "statusCode": 200
    }
    assert zappa.handler(apigw.disconnect(), None) == {"statusCode": 200}
    assert [json.loads(b) for b in client.received["conn-1="]] == [{"msg": "hello"}]


def test_class_example_echoes_through_send_message(
    load_app: Any, client: ManagementStub, apigw: Any
) -> None:
    load_app(CLASS_EXAMPLE)
    assert zappa.lambda_handler(apigw.connect(), None)["statusCode"] == 200
    zappa.lambda_handler(apigw.message("$default", "hi there"), None)
    assert [json.loads(b) for b in client.received["conn-1="]] == [{"echo": "hi there"}]


def test_every_route_key_reaches_on_message(
    load_app: Any, client: ManagementStub, apigw: Any
) -> None:
    load_app(CLASS_EXAMPLE)
    zappa.handler(apigw.message("sendmessage", {"action": "sendmessage"}), None)
    [body] = client.received["conn-1="]
    assert json.loads(json.loads(body)["echo"]) == {"action": "sendmessage"}


def test_class_registers_only_overridden_methods_and_shares_one_instance(
    load_app: Any, apigw: Any
) -> None:
    load_app("")
    created: list[object] = []

    class Counter(zappa.ZappaWebSocketServer):
        def __init__(self) -> None:
            created.append(self)

        def on_message(self, event: Any, context: Any) -> Any:
            return {"statusCode": 200, "body": str(len(created))}

    assert zappa.get_handler("$connect") is zappa.get_handler("anything")  # falls back
    assert set(zappa._registry) == {"$default"}
    assert zappa.handler(apigw.message("$default", "x"))["body"] == "1"
    assert zappa.handler(apigw.message("$default", "x"))["body"] == "1"


def test_status_code_from_connect_refuses_the_handshake(load_app: Any, apigw: Any) -> None:
    load_app(
        """
        from wsgate.compat.zappa import on_connect, on_message

        @on_connect
        def connect(event, context):
            if (event.get("queryStringParameters") or {}).get("token") != "s3cret":
                return {"statusCode": 401}
            return {"statusCode": 200}

        @on_message
        def message(event, context):
            return {"statusCode": 200, "body": event["body"].upper()}
        """
    )
    assert zappa.handler(apigw.connect(query={"token": "nope"}))["statusCode"] == 401
    assert zappa.handler(apigw.connect(query={"token": "s3cret"}))["statusCode"] == 200
    assert zappa.handler(apigw.message("$default", "two-way"))["body"] == "TWO-WAY"


def test_send_message_outside_a_websocket_invocation_uses_wsgate_endpoint(
    client: ManagementStub,
) -> None:
    # e.g. a cron Lambda: no WebSocket event has been seen, WSGATE_ENDPOINT says where to send.
    zappa.send_message("conn-1=", "tick")
    assert client.received["conn-1="] == [b"tick"]


def test_send_message_finds_the_endpoint_from_the_event_being_handled(
    load_app: Any,
    mgmt: ManagementStub,  # noqa: F811
    apigw: Any,
) -> None:
    load_app(DECORATOR_EXAMPLE)
    mgmt.connect("conn-1=")
    event = apigw.message("$default", "{}")
    host = mgmt.endpoint.split("/")[2]  # 127.0.0.1:port, as the local gateway reports it
    event["requestContext"]["domainName"] = host
    zappa.handler(event, None)
    assert [json.loads(b) for b in mgmt.received["conn-1="]] == [{"msg": "hello"}]


def test_older_send_message_event_form_still_works(client: ManagementStub, apigw: Any) -> None:
    zappa.send_message(apigw.message("$default", "{}"), {"ok": True})
    assert [json.loads(b) for b in client.received["conn-1="]] == [{"ok": True}]


def test_validate_registry_names_the_missing_decorator(load_app: Any) -> None:
    load_app("")
    zappa.validate_registry()  # nothing registered: nothing to check
    zappa.on_message(lambda event, context: None)
    with pytest.raises(zappa.WebSocketConfigurationError, match="@on_connect"):
        zappa.validate_registry()


def test_is_websocket_event_recognises_the_three_event_types(apigw: Any) -> None:
    assert zappa.is_websocket_event(apigw.connect())
    assert zappa.is_websocket_event(apigw.message("x", "{}"))
    assert zappa.is_websocket_event(apigw.disconnect())
    assert not zappa.is_websocket_event({"httpMethod": "GET", "requestContext": {}})
