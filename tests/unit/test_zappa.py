"""Zappa's documented WebSocket examples run on wsgate with only the import changed.

The two examples from Zappa's ``zappa.websocket`` documentation (decorators, and a
``ZappaWebSocketServer`` subclass) are re-typed below with ``from zappa.websocket`` replaced by
``from wsgate.compat.zappa``, written to a module, and run through ``wsgate.compat.zappa.handler``
the way Lambda would; messages reach a real @connections server through boto3.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mgmt_stub import ManagementStub, clean_env, mgmt, table  # noqa: F401 - fixtures
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


@pytest.fixture(autouse=True)
def zappa_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The variables compat sets per event (as Zappa does) do not outlive a test."""
    for name in ("REQUEST_DOMAIN_NAME", "STAGE", "WEBSOCKET_API_GATEWAY_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    zappa._reset()
    yield
    zappa._reset()


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

        def on_connect(self, event: Any, context: Any) -> Any:
            return {"statusCode": 200}

        def on_message(self, event: Any, context: Any) -> Any:
            return {"statusCode": 200, "body": str(len(created))}

    assert zappa.get_handler("$disconnect") is zappa.get_handler("anything")  # falls back
    assert set(zappa._registry) == {"$connect", "$default"}
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
    zappa.on_message(lambda event, context: None)
    with pytest.raises(zappa.WebSocketConfigurationError, match="@on_connect"):
        zappa.validate_registry()


def test_is_websocket_event_recognises_the_three_event_types(apigw: Any) -> None:
    assert zappa.is_websocket_event(apigw.connect())
    assert zappa.is_websocket_event(apigw.message("x", "{}"))
    assert zappa.is_websocket_event(apigw.disconnect())
    assert not zappa.is_websocket_event({"httpMethod": "GET", "requestContext": {}})


# -- what a Zappa app relies on ----------------------------------------------------------------
APP = """
from wsgate.compat.zappa import on_connect, on_disconnect, on_message, send_message

calls = []

@on_connect
def connect(event, context):
    calls.append("connect")
    return {"statusCode": 200}

@on_message
def message(event, context):
    calls.append("message")
    return {"statusCode": 200}
"""


def test_gone_connection_raises_botocore_client_error_with_zappas_code(
    client: ManagementStub,
) -> None:
    from botocore.exceptions import ClientError
    from wsgate import Gone

    client.disconnect("conn-1=")
    try:
        zappa.send_message("conn-1=", {"hi": 1})
    except ClientError as exc:  # the way Zappa apps catch it
        assert exc.response["Error"]["Code"] == "GoneException"
        assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == 410
        assert exc.operation_name == "PostToConnection"
        assert isinstance(exc, Gone)  # and the way wsgate code catches it
        assert exc.connection_id == "conn-1="
        assert "GoneException" in str(exc)
    else:
        pytest.fail("a send to a gone connection did not raise")


def test_other_errors_are_plain_client_errors_not_gone(client: ManagementStub) -> None:
    from botocore.exceptions import ClientError
    from wsgate import Gone

    client.script("conn-1=", 403)
    with pytest.raises(ClientError) as raised:
        zappa.send_message("conn-1=", "x")
    assert raised.value.response["Error"]["Code"] == "ForbiddenException"
    assert not isinstance(raised.value, Gone)


@pytest.mark.parametrize(
    "data",
    [
        7,
        None,
        2.5,
        True,
        [1, "two", None],
        {"nested": {"list": [1, {"x": None}]}},
        "héllo",
        b"\x00",
    ],
)
def test_payload_is_encoded_exactly_as_zappa_does(client: ManagementStub, data: Any) -> None:
    zappa.send_message("conn-1=", data)
    if isinstance(data, bytes):
        expected = data
    elif isinstance(data, str):
        expected = data.encode("utf-8")
    else:
        expected = json.dumps(data).encode("utf-8")  # json.dumps defaults: ", " and ": "
    assert client.received["conn-1="] == [expected]


def test_a_payload_json_cannot_encode_raises_type_error_before_any_call(
    client: ManagementStub,
) -> None:
    with pytest.raises(TypeError):
        zappa.send_message("conn-1=", {"when": object()})
    assert client.calls("conn-1=") == 0


def test_botocore_stubber_on_compats_client_sees_the_send(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.stub import Stubber

    monkeypatch.setenv("REQUEST_DOMAIN_NAME", "abc123.execute-api.us-east-1.amazonaws.com")
    monkeypatch.setenv("STAGE", "dev")
    with Stubber(zappa._get_ws_client()) as stub:
        stub.add_response("post_to_connection", {}, {"ConnectionId": "c1", "Data": b'{"a": 1}'})
        stub.add_client_error(
            "post_to_connection", service_error_code="GoneException", http_status_code=410
        )
        zappa.send_message("c1", {"a": 1})
        from botocore.exceptions import ClientError

        with pytest.raises(ClientError, match="GoneException"):
            zappa.send_message("c2", "late")
        stub.assert_no_pending_responses()


def test_moto_mock_aws_sees_the_send(load_app: Any, apigw: Any) -> None:
    from moto import mock_aws
    from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    load_app(CLASS_EXAMPLE)
    event = apigw.message("$default", "hi")
    event["requestContext"]["connectionId"] = "conn1"  # moto keys connections by the URL form
    with mock_aws():
        zappa.handler(event, None)
        backend = apigatewaymanagementapi_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
        assert backend.connections["conn1"].data == b'{"echo": "hi"}'


def test_patching_boto3_client_intercepts_the_send(monkeypatch: pytest.MonkeyPatch) -> None:
    from unittest.mock import MagicMock, patch

    monkeypatch.setenv("WSGATE_ENDPOINT", "https://abc123.execute-api.us-east-1.amazonaws.com/dev")
    with patch("boto3.client") as factory:
        zappa.send_message("c1", [1, 2])
    factory.assert_called_once_with(
        "apigatewaymanagementapi",
        endpoint_url="https://abc123.execute-api.us-east-1.amazonaws.com/dev",
    )
    post: MagicMock = factory.return_value.post_to_connection
    post.assert_called_once_with(ConnectionId="c1", Data=b"[1, 2]")


def test_handler_exception_propagates_to_lambda(load_app: Any, apigw: Any) -> None:
    load_app(
        APP
        + """
@on_disconnect
def disconnect(event, context):
    raise RuntimeError("disconnect failed")

def boom(event, context):
    raise ValueError("bad message")
on_message(boom)
"""
    )
    with pytest.raises(ValueError, match="bad message"):
        zappa.handler(apigw.message("$default", "x"), None)
    with pytest.raises(RuntimeError, match="disconnect failed"):
        zappa.handler(apigw.disconnect(), None)


def test_failed_connect_handler_leaves_no_connection_in_the_table(
    load_app: Any,
    table: str,  # noqa: F811
    apigw: Any,
) -> None:
    from wsgate import connections

    load_app(
        """
from wsgate.compat.zappa import on_connect, on_message

@on_connect
def connect(event, context):
    if event["queryStringParameters"].get("fail"):
        raise RuntimeError("refused")
    if event["queryStringParameters"].get("deny"):
        return {"statusCode": 403}
    return {"statusCode": 200}

@on_message
def message(event, context):
    return {"statusCode": 200}
"""
    )
    with pytest.raises(RuntimeError):
        zappa.handler(apigw.connect("c-fail=", query={"fail": "1"}), None)
    assert zappa.handler(apigw.connect("c-deny=", query={"deny": "1"}), None)["statusCode"] == 403
    assert connections.get("c-fail=") is None and connections.get("c-deny=") is None
    zappa.handler(apigw.connect("c-ok=", query={"x": "1"}), None)
    assert connections.get("c-ok=") is not None  # wsgate.rooms and broadcast can see it
    zappa.handler(apigw.disconnect("c-ok="), None)
    assert connections.get("c-ok=") is None


def test_environment_is_set_as_zappa_does(load_app: Any, apigw: Any) -> None:
    load_app(APP)
    event = apigw.connect()
    zappa.handler(event, None)
    assert os.environ["REQUEST_DOMAIN_NAME"] == "abc123.execute-api.us-east-1.amazonaws.com"
    assert os.environ["STAGE"] == "dev"
    assert (
        os.environ["WEBSOCKET_API_GATEWAY_ENDPOINT"]
        == "https://abc123.execute-api.us-east-1.amazonaws.com/dev"
    )


def test_sends_from_handler_threads_and_after_the_invocation_work(
    load_app: Any,
    mgmt: ManagementStub,  # noqa: F811
    apigw: Any,
) -> None:
    mgmt.connect("conn-1=")
    name = load_app(
        """
import threading
from wsgate.compat.zappa import on_connect, on_message, send_message

threads = []

@on_connect
def connect(event, context):
    return {"statusCode": 200}

@on_message
def message(event, context):
    cid = event["requestContext"]["connectionId"]
    started = threading.Event()
    def later():
        started.wait()
        send_message(cid, "from a thread")
    thread = threading.Thread(target=later)
    thread.start()
    threads.append((thread, started))
    return {"statusCode": 200}
"""
    )
    event = apigw.message("$default", "go")
    event["requestContext"]["domainName"] = mgmt.endpoint.split("/")[2]
    assert zappa.handler(event, None) == {"statusCode": 200}
    app = sys.modules[name]
    [(thread, started)] = app.threads
    started.set()  # the invocation has returned; the thread sends now
    thread.join(10)
    zappa.send_message("conn-1=", "after the invocation")  # e.g. a later timer in the container
    assert mgmt.received["conn-1="] == [b"from a thread", b"after the invocation"]


def test_missing_on_connect_is_reported_at_the_first_websocket_event(
    load_app: Any, apigw: Any
) -> None:
    load_app(
        """
from wsgate.compat.zappa import on_message

@on_message
def message(event, context):
    return {"statusCode": 200}
"""
    )
    with pytest.raises(zappa.WebSocketConfigurationError, match="@on_connect"):
        zappa.handler(apigw.connect(), None)


def test_registry_clear_forgets_the_handlers(load_app: Any, apigw: Any) -> None:
    name = load_app(APP)
    zappa.handler(apigw.connect(), None)
    zappa._registry.clear()
    assert zappa.get_handler("$default") is None
    assert zappa.handler(apigw.message("$default", "x"), None) == {"statusCode": 200}
    assert sys.modules[name].calls == ["connect"]


def test_one_and_zero_argument_handlers_are_called_as_zappa_allows(
    load_app: Any, apigw: Any
) -> None:
    load_app(
        """
from wsgate.compat.zappa import on_connect, on_disconnect, on_message

@on_connect
def connect(event):
    return {"statusCode": 200, "body": event["requestContext"]["routeKey"]}

@on_message
def message(event, context=None):
    return {"statusCode": 200, "body": "two" if context == "ctx" else "one"}

@on_disconnect
def disconnect():
    return {"statusCode": 200, "body": "none"}
"""
    )
    assert zappa.handler(apigw.connect(), "ctx")["body"] == "$connect"
    assert zappa.handler(apigw.message("$default", "x"), "ctx")["body"] == "two"
    assert zappa.handler(apigw.disconnect(), "ctx")["body"] == "none"


def test_type_error_inside_a_handler_propagates_without_a_second_call(
    load_app: Any, apigw: Any
) -> None:
    name = load_app(
        APP
        + """
@on_message
def message(event, context):
    calls.append("message")
    return len(None)
"""
    )
    with pytest.raises(TypeError, match="NoneType"):
        zappa.handler(apigw.message("$default", "x"), None)
    assert sys.modules[name].calls == ["message"]  # Zappa would have called it again


def test_proxy_dict_is_returned_unchanged(load_app: Any, apigw: Any) -> None:
    load_app(
        """
from wsgate.compat.zappa import on_connect, on_message

REPLY = {
    "statusCode": 201,
    "body": "aGVsbG8=",
    "isBase64Encoded": True,
    "headers": {"x-custom": "1"},
    "multiValueHeaders": {"x-many": ["a", "b"]},
}

@on_connect
def connect(event, context):
    return {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "chat"}}

@on_message
def message(event, context):
    return REPLY
"""
    )
    reply = zappa.handler(apigw.message("$default", "x"), None)
    assert reply == {
        "statusCode": 201,
        "body": "aGVsbG8=",
        "isBase64Encoded": True,
        "headers": {"x-custom": "1"},
        "multiValueHeaders": {"x-many": ["a", "b"]},
    }
    assert zappa.handler(apigw.connect(), None) == {
        "statusCode": 200,
        "headers": {"Sec-WebSocket-Protocol": "chat"},
    }


def test_disconnect_without_a_handler_does_not_run_on_message(load_app: Any, apigw: Any) -> None:
    # Deliberately unlike Zappa, whose get_handler("$disconnect") falls back to @on_message.
    name = load_app(APP)
    assert zappa.handler(apigw.disconnect(), None) == {"statusCode": 200}
    assert sys.modules[name].calls == []


def test_lambda_handler_reads_a_zappa_settings_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, apigw: Any
) -> None:
    (tmp_path / "my_settings.py").write_text(
        'API_STAGE = "prod"\nAPP_MODULE = "my_ws"\nAPP_FUNCTION = "app"\n'
        'WEBSOCKET_HANDLER_MODULE = "my_ws"\n'
    )
    (tmp_path / "my_ws.py").write_text(
        APP.replace(
            'return {"statusCode": 200}\n\n@on_message', 'return {"statusCode": 204}\n\n@on_message'
        )
        + "\ndef app(environ, start_response):\n    start_response('200 OK', [])\n"
        "    return [b'wsgi']\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(zappa.LambdaHandler, "_LambdaHandler__instance", None)
    monkeypatch.setattr(zappa.LambdaHandler, "settings", None)
    try:
        lh = zappa.LambdaHandler("my_settings")
        assert lh is zappa.LambdaHandler("my_settings")  # one per process
        assert os.environ["STAGE"] == "prod"
        assert lh.handler(apigw.connect(), None) == {"statusCode": 204}
    finally:
        for module in ("my_settings", "my_ws"):
            sys.modules.pop(module, None)
