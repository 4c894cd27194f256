"""The class form: a WebSocketHandler subclass is a Lambda handler with the semantics of App."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mgmt_stub import ManagementStub, clean_env, mgmt  # noqa: F401 - fixtures
from wsgate import RegistrationError, Response, WebSocketHandler, handles
from wsgate.events import Event


class Chat(WebSocketHandler):
    def __init__(self) -> None:
        super().__init__()
        self.log: list[str] = []

    def on_connect(self, event: Event) -> Response | None:
        self.log.append("connect")
        if not event.query.get("name"):
            return Response(400)
        return None

    def on_disconnect(self, event: Event) -> None:
        self.log.append(f"disconnect {event.disconnect_status_code}")

    def on_message(self, event: Event) -> str:
        return f"unrouted {event.route_key}"

    @handles("say")
    def say(self, event: Event) -> dict[str, Any]:
        self.log.append("say")
        return {"said": event.json["text"]}

    @handles("ping")
    @handles("hello")
    def greet(self, event: Event) -> dict[str, str]:
        return {"type": "pong" if event.route_key == "ping" else "hello"}


def test_instance_is_the_handler_and_routes_to_marked_methods(apigw: Any) -> None:
    handler = Chat()
    assert handler(apigw.message("say", {"text": "hi"})) == {
        "statusCode": 200,
        "body": '{"said":"hi"}',
    }
    assert json.loads(handler(apigw.message("ping", "{}"))["body"]) == {"type": "pong"}
    assert json.loads(handler(apigw.message("hello", "{}"))["body"]) == {"type": "hello"}
    assert handler(apigw.message("other", "{}"))["body"] == "unrouted other"
    assert handler.log == ["say"]


def test_lifecycle_methods_keep_app_semantics(apigw: Any) -> None:
    handler = Chat()
    assert handler(apigw.connect())["statusCode"] == 400
    assert handler(apigw.connect(query={"name": "alice"}))["statusCode"] == 200
    handler(apigw.disconnect(code=1005))
    assert handler.log == ["connect", "connect", "disconnect 1005"]


def test_class_handler_is_one_shared_instance_per_class(apigw: Any) -> None:
    class Other(Chat):
        pass

    assert Chat.handler is Chat.handler
    assert Other.handler is Other.handler
    assert Other.handler is not Chat.handler
    Chat.handler(apigw.message("say", {"text": "a"}))
    Chat.handler(apigw.message("say", {"text": "b"}))
    assert Chat.handler.log == ["say", "say"]


def test_subclass_inherits_routes_and_can_add_more(apigw: Any) -> None:
    class Bigger(Chat):
        @handles("shout")
        def shout(self, event: Event) -> str:
            return event.json["text"].upper()

    handler = Bigger()
    assert handler(apigw.message("shout", {"text": "hey"}))["body"] == "HEY"
    assert handler(apigw.message("say", {"text": "x"}))["body"] == '{"said":"x"}'


def test_two_methods_for_one_route_raise_at_class_definition() -> None:
    with pytest.raises(RegistrationError) as info:

        class Broken(WebSocketHandler):
            @handles("say")
            def one(self, event: Event) -> None: ...

            @handles("say")
            def two(self, event: Event) -> None: ...

    assert "Broken.one" in str(info.value) and "Broken.two" in str(info.value)


def test_without_on_message_unknown_routes_get_an_error_frame(
    mgmt: ManagementStub,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    apigw: Any,
) -> None:
    monkeypatch.setenv("WSGATE_ENDPOINT", mgmt.endpoint)
    mgmt.connect("conn-1=")

    class Minimal(WebSocketHandler):
        @handles("say")
        def say(self, event: Event) -> None: ...

    assert Minimal()(apigw.message("dance", "{}"))["statusCode"] == 404
    [frame] = [json.loads(b) for b in mgmt.received["conn-1="]]
    assert frame["code"] == "unknown_action"


def test_on_error_answers_exceptions_and_middleware_wraps_methods(apigw: Any) -> None:
    class Careful(WebSocketHandler):
        def __init__(self) -> None:
            super().__init__()
            self.seen: list[str] = []
            self.use(self.audit)

        def audit(self, event: Event, call_next: Any) -> Any:
            self.seen.append(event.route_key)
            return call_next(event)

        @handles("divide")
        def divide(self, event: Event) -> float:
            return 1 / event.json["by"]

        def on_error(self, event: Event, exc: Exception) -> Response:
            return Response(400, {"error": type(exc).__name__})

    handler = Careful()
    assert handler(apigw.message("divide", {"by": 0}))["body"] == '{"error":"ZeroDivisionError"}'
    assert handler(apigw.message("divide", {"by": 2}))["body"] == "0.5"
    assert handler.seen == ["divide", "divide"]
