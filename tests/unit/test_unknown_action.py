"""A message no handler takes is answered with an unknown_action frame naming what the client sent.

API Gateway hands such a message to Lambda as ``$default``, so the action is read back from the
body by the route selection expression. Frames travel through the real @connections stub.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from mgmt_stub import ManagementStub, clean_env_fixture, mgmt_fixture  # noqa: F401
from wsgate import App
from wsgate.events import Event


@pytest.fixture(name="caller")
def caller_fixture(mgmt: ManagementStub, monkeypatch: pytest.MonkeyPatch) -> ManagementStub:
    monkeypatch.setenv("WSGATE_ENDPOINT", mgmt.endpoint)
    mgmt.connect("conn-1=")
    return mgmt


def app_with_one_route() -> App:
    app = App()

    @app.route("say")
    def say(event: Event) -> None: ...

    return app


def last_frame(stub: ManagementStub) -> Any:
    return json.loads(stub.received["conn-1="][-1])


def test_unmatched_action_is_named_not_the_default_route(
    caller: ManagementStub, apigw: Any
) -> None:
    event = apigw.message("$default", {"action": "dance", "steps": 3})
    response = app_with_one_route()(event)
    assert response["statusCode"] == 404
    assert last_frame(caller) == {
        "type": "error",
        "code": "unknown_action",
        "message": "no handler for action 'dance'",
        "requestId": event["requestContext"]["requestId"],
    }


@pytest.mark.parametrize("body", ["not json", '{"text": "no action"}', '["action"]', ""])
def test_when_the_action_cannot_be_known_the_frame_speaks_of_the_message(
    caller: ManagementStub, apigw: Any, body: str
) -> None:
    app_with_one_route()(apigw.message("$default", body))
    message = last_frame(caller)["message"]
    assert message == "this message matches no route and the app has no default handler"


def test_the_action_is_read_with_the_configured_route_selection_expression(
    caller: ManagementStub, apigw: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "WSGATE_ROUTE_SELECTION_EXPRESSION", "${request.body.service}/$request.body.op"
    )
    app_with_one_route()(apigw.message("$default", {"service": "chat", "op": "shout"}))
    assert last_frame(caller)["message"] == "no handler for action 'chat/shout'"


def test_a_very_long_action_is_shortened_in_the_frame(caller: ManagementStub, apigw: Any) -> None:
    app_with_one_route()(apigw.message("$default", {"action": "x" * 100_000}))
    message = last_frame(caller)["message"]
    assert message == f"no handler for action '{'x' * 100}...'"


def test_a_default_handler_still_gets_unmatched_actions(caller: ManagementStub, apigw: Any) -> None:
    app = app_with_one_route()

    @app.default
    def fallback(event: Event) -> str:
        return f"default got {event.json['action']}"

    assert app(apigw.message("$default", {"action": "dance"}))["body"] == "default got dance"
    assert "conn-1=" not in caller.received


def test_a_handled_route_missing_from_the_api_still_runs_its_handler_and_warns(
    caller: ManagementStub, apigw: Any, log_lines: list[dict[str, Any]]
) -> None:
    app = App()
    said: list[str] = []

    @app.route("say")
    def say(event: Event) -> dict[str, str]:
        said.append(event.json["text"])
        return {"ok": "said"}

    @app.default
    def fallback(event: Event) -> str:
        return "default"

    # API Gateway has no "say" route (it is missing from the module's routes): $default.
    for text in ("one", "two"):
        response = app(apigw.message("$default", {"action": "say", "text": text}))
        assert response == {"statusCode": 200, "body": '{"ok":"said"}'}
    assert said == ["one", "two"]
    assert "conn-1=" not in caller.received  # no unknown_action frame
    warnings = [line for line in log_lines if line["level"] == "WARNING"]
    assert len(warnings) == 1  # once per container, not once per message
    assert warnings[0]["missingRoute"] == "say"
    assert "add 'say' to the module's routes" in warnings[0]["message"]
    assert app(apigw.message("$default", {"action": "dance"}))["body"] == "default"


def test_a_missing_route_is_found_with_the_configured_selection_expression(
    caller: ManagementStub, apigw: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WSGATE_ROUTE_SELECTION_EXPRESSION", "$request.body.op")
    app = App()
    app.route("shout")(lambda event: "shouted")
    assert app(apigw.message("$default", {"op": "shout"}))["body"] == "shouted"
    assert app(apigw.message("$default", {"action": "shout"}))["statusCode"] == 404


@pytest.mark.parametrize("body", [{"action": "$connect"}, {"action": "$disconnect"}])
def test_a_body_cannot_select_a_lifecycle_handler(
    caller: ManagementStub, apigw: Any, body: dict[str, str]
) -> None:
    app = app_with_one_route()
    ran: list[str] = []
    app.connect(lambda event: ran.append("connect"))
    app.disconnect(lambda event: ran.append("disconnect"))
    assert app(apigw.message("$default", body))["statusCode"] == 404
    assert ran == []
