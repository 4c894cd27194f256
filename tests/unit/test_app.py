"""App routes events to handlers, answers API Gateway correctly and tells clients about errors.

Error frames travel through a stock boto3 client to a real @connections server on loopback
(``mgmt_stub``); the connection table is moto's DynamoDB.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import wsgate
from mgmt_stub import ManagementStub, clean_env, mgmt, table  # noqa: F401 - fixtures
from wsgate import App, BadRequest, RegistrationError, Response, metrics
from wsgate.context import current_event, current_lambda_context
from wsgate.events import Event


def frames(stub: ManagementStub, connection_id: str) -> list[Any]:
    return [json.loads(body) for body in stub.received.get(connection_id, [])]


@pytest.fixture
def caller(mgmt: ManagementStub, monkeypatch: pytest.MonkeyPatch) -> ManagementStub:  # noqa: F811
    """An open connection ``conn-1=`` on the @connections server, found via WSGATE_ENDPOINT."""
    monkeypatch.setenv("WSGATE_ENDPOINT", mgmt.endpoint)
    mgmt.connect("conn-1=")
    return mgmt


def test_route_handler_gets_the_event_and_its_dict_reply_is_the_body(apigw: Any) -> None:
    app = App()
    seen: list[Event] = []

    @app.route("say")
    def say(event: Event) -> dict[str, Any]:
        seen.append(event)
        return {"echo": event.json["text"]}

    response = app(apigw.message("say", {"action": "say", "text": "héllo"}))
    assert response == {"statusCode": 200, "body": '{"echo":"héllo"}'}
    assert seen[0].route_key == "say" and seen[0].connection_id == "conn-1="


def test_str_bytes_none_and_response_replies_become_proxy_responses(apigw: Any) -> None:
    app = App()
    replies: dict[str, Any] = {
        "text": "plain",
        "raw": b"\x00\xff",
        "utf8": b"ok",
        "nothing": None,
        "custom": Response(202, {"a": 1}),
    }
    for key, reply in replies.items():
        app.route(key)(lambda event, reply=reply: reply)
    assert app(apigw.message("text", "{}")) == {"statusCode": 200, "body": "plain"}
    assert app(apigw.message("raw", "{}")) == {
        "statusCode": 200,
        "body": "AP8=",
        "isBase64Encoded": True,
    }
    assert app(apigw.message("utf8", "{}")) == {"statusCode": 200, "body": "ok"}
    assert app(apigw.message("nothing", "{}")) == {"statusCode": 200}
    assert app(apigw.message("custom", "{}")) == {"statusCode": 202, "body": '{"a":1}'}


def test_unregistered_route_key_goes_to_the_default_handler(apigw: Any) -> None:
    app = App()

    @app.default
    def fallback(event: Event) -> str:
        return f"default got {event.route_key}"

    assert app(apigw.message("nope", "{}"))["body"] == "default got nope"
    assert app(apigw.message("$default", "hi"))["body"] == "default got $default"


def test_no_handler_and_no_default_sends_unknown_action_frame(
    caller: ManagementStub, apigw: Any
) -> None:
    app = App()
    event = apigw.message("dance", {"action": "dance"})
    response = app(event)
    assert response["statusCode"] == 404
    [frame] = frames(caller, "conn-1=")
    assert frame == {
        "type": "error",
        "code": "unknown_action",
        "message": "no handler for action 'dance'",
        "requestId": event["requestContext"]["requestId"],
    }
    app(apigw.message("$default", "not json"))
    assert frames(caller, "conn-1=")[1]["message"] == (
        "this message matches no route and the app has no default handler"
    )


def test_second_handler_for_a_route_key_raises_naming_both() -> None:
    app = App()

    @app.route("say")
    def first(event: Event) -> None: ...

    def second(event: Event) -> None: ...

    with pytest.raises(RegistrationError) as info:
        app.route("say")(second)
    assert "first" in str(info.value) and "second" in str(info.value)
    with pytest.raises(RegistrationError):
        app.connect(first)
        app.connect(second)
    with pytest.raises(RegistrationError):
        app.route("$custom")


def test_disconnect_never_falls_back_to_the_message_handler(apigw: Any) -> None:
    app = App()
    calls: list[str] = []
    app.default(lambda event: calls.append("default"))
    assert app(apigw.disconnect())["statusCode"] == 200
    assert app(apigw.connect())["statusCode"] == 200
    assert calls == []


def test_middleware_wraps_every_handler_in_order_and_can_answer_itself(apigw: Any) -> None:
    app = App()
    order: list[str] = []

    @app.use
    def outer(event: Event, call_next: Any) -> Any:
        order.append("outer-in")
        result = call_next(event)
        order.append("outer-out")
        return result

    @app.use
    def gate(event: Event, call_next: Any) -> Any:
        order.append("gate")
        if event.json.get("token") != "ok":
            return {"denied": True}
        return call_next(event)

    @app.route("say")
    def say(event: Event) -> str:
        order.append("handler")
        return "said"

    assert app(apigw.message("say", {"token": "ok"}))["body"] == "said"
    assert order == ["outer-in", "gate", "handler", "outer-out"]
    order.clear()
    assert app(apigw.message("say", {"token": "no"}))["body"] == '{"denied":true}'
    assert order == ["outer-in", "gate", "outer-out"]


def test_on_error_turns_an_exception_into_the_reply(apigw: Any) -> None:
    app = App()

    class OutOfStock(Exception):
        pass

    class Backordered(OutOfStock):
        pass

    @app.on_error(OutOfStock)
    def out_of_stock(event: Event, exc: Exception) -> Response:
        return Response(409, {"error": type(exc).__name__})

    @app.route("buy")
    def buy(event: Event) -> None:
        raise Backordered()

    assert app(apigw.message("buy", "{}")) == {"statusCode": 409, "body": '{"error":"Backordered"}'}


def test_bad_json_becomes_a_bad_request_frame(caller: ManagementStub, apigw: Any) -> None:
    app = App()
    app.route("say")(lambda event: event.json)
    event = apigw.message("say", "{not json")
    assert app(event)["statusCode"] == 400
    [frame] = frames(caller, "conn-1=")
    assert frame["code"] == "bad_request"
    assert frame["message"] == "the message is not valid JSON"
    assert frame["requestId"] == event["requestContext"]["requestId"]


def test_client_error_raised_by_a_handler_is_told_to_the_client(
    caller: ManagementStub, apigw: Any
) -> None:
    app = App()

    @app.route("join")
    def join(event: Event) -> None:
        raise BadRequest("room names are 1-64 letters, digits, '-' or '_'")

    app(apigw.message("join", {"room": "!!"}))
    [frame] = frames(caller, "conn-1=")
    assert frame["message"] == "room names are 1-64 letters, digits, '-' or '_'"


def test_crash_is_logged_with_traceback_but_client_hears_only_internal_error(
    caller: ManagementStub, log_lines: list[dict[str, Any]], apigw: Any
) -> None:
    app = App()

    @app.route("say")
    def say(event: Event) -> None:
        raise RuntimeError("database password is hunter2")

    event = apigw.message("say", "{}")
    assert app(event)["statusCode"] == 500
    [frame] = frames(caller, "conn-1=")
    assert frame == {
        "type": "error",
        "code": "internal_error",
        "message": "Internal error",
        "requestId": event["requestContext"]["requestId"],
    }
    assert "hunter2" not in json.dumps(frame)
    [crash] = [line for line in log_lines if "exception" in line]
    assert crash["requestId"] == event["requestContext"]["requestId"]
    assert "RuntimeError: database password is hunter2" in crash["exception"]
    assert "Traceback" in crash["exception"]


def test_failing_error_frame_is_logged_not_raised(
    caller: ManagementStub, log_lines: list[dict[str, Any]], apigw: Any
) -> None:
    app = App()
    caller.disconnect("conn-1=")  # the caller left: @connections answers 410
    assert app(apigw.message("dance", "{}"))["statusCode"] == 404
    assert any("not delivered" in line["message"] for line in log_lines)


def test_error_handler_can_turn_an_exception_into_a_client_error_frame(
    caller: ManagementStub,
    apigw: Any,
) -> None:
    app = App()

    @app.on_error(KeyError)
    def missing_field(event: Event, exc: Exception) -> None:
        raise BadRequest(f"missing field {exc}")

    app.route("join")(lambda event: event.json["room"])
    assert app(apigw.message("join", {"action": "join"}))["statusCode"] == 400
    [frame] = frames(caller, "conn-1=")
    assert (frame["code"], frame["message"]) == ("bad_request", "missing field 'room'")


def test_error_handler_that_raises_is_treated_as_a_crash(
    caller: ManagementStub, apigw: Any
) -> None:
    app = App()
    app.on_error(KeyError)(lambda event, exc: 1 / 0)
    app.route("say")(lambda event: {}["missing"])
    assert app(apigw.message("say", "{}"))["statusCode"] == 500
    assert frames(caller, "conn-1=")[0]["code"] == "internal_error"


def test_reply_that_cannot_be_encoded_is_a_crash_not_a_lambda_error(
    caller: ManagementStub,
    apigw: Any,
) -> None:
    app = App()
    app.route("say")(lambda event: {"when": object()})
    assert app(apigw.message("say", "{}"))["statusCode"] == 500
    assert frames(caller, "conn-1=")[0]["code"] == "internal_error"


def test_connect_response_status_refuses_the_handshake(apigw: Any) -> None:
    app = App()

    @app.connect
    def connect(event: Event) -> Response | None:
        if event.query.get("name") != "alice":
            return Response(401)
        return None

    assert app(apigw.connect(query={"name": "bob"}))["statusCode"] == 401
    assert app(apigw.connect(query={"name": "alice"}))["statusCode"] == 200


def test_connect_errors_map_to_handshake_statuses(apigw: Any) -> None:
    app = App()

    @app.connect
    def connect(event: Event) -> None:
        kind = event.query.get("kind")
        if kind == "unauthorized":
            raise wsgate.Unauthorized()
        if kind == "forbidden":
            raise wsgate.Forbidden()
        if kind == "bad":
            raise BadRequest("name missing")
        raise RuntimeError("boom")

    status = {
        k: app(apigw.connect(query={"kind": k}))["statusCode"]
        for k in ("unauthorized", "forbidden", "bad", "crash")
    }
    assert status == {"unauthorized": 401, "forbidden": 403, "bad": 400, "crash": 500}


def test_connect_passes_the_chosen_subprotocol_and_never_echoes_a_token(apigw: Any) -> None:
    app = App()
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
    offered = {"Sec-WebSocket-Protocol": f"bearer, {token}"}
    response = app(apigw.connect(headers=offered))
    assert response["headers"] == {"Sec-WebSocket-Protocol": "bearer"}

    @app.connect
    def connect(event: Event) -> Response:
        return Response(headers={"Sec-WebSocket-Protocol": "chat.v2"})

    response = app(apigw.connect(headers={"Sec-WebSocket-Protocol": "chat.v1, chat.v2"}))
    assert response["headers"] == {"Sec-WebSocket-Protocol": "chat.v2"}
    assert "headers" not in App()(apigw.connect())


def test_current_event_is_set_during_dispatch_and_reset_after(apigw: Any) -> None:
    app = App()
    seen: list[Any] = []
    context = object()
    app.route("peek")(lambda e: seen.append((current_event.get(), current_lambda_context.get())))
    event = apigw.message("peek", "{}")
    app(event, context)
    [(current, lambda_context)] = seen
    assert isinstance(current, Event) and current.raw is event and lambda_context is context
    assert current_event.get() is None and current_lambda_context.get() is None


def test_one_log_line_per_invocation_with_ids_and_duration(
    log_lines: list[dict[str, Any]],
    apigw: Any,
) -> None:
    app = App()
    app.route("say")(lambda event: None)
    event = apigw.message("say", "{}")
    app(event)
    [line] = [line for line in log_lines if "durationMs" in line]
    assert line["connectionId"] == "conn-1="
    assert line["requestId"] == event["requestContext"]["requestId"]
    assert line["routeKey"] == "say"
    assert line["statusCode"] == 200
    assert isinstance(line["durationMs"], float)


def test_counters_are_flushed_as_one_emf_line_per_invocation(
    monkeypatch: pytest.MonkeyPatch,
    apigw: Any,
) -> None:
    written: list[str] = []
    monkeypatch.setattr(metrics, "writer", written.append)
    app = App()

    @app.route("say")
    def say(event: Event) -> None:
        metrics.incr("MessagesSent", 2)
        metrics.incr("MessagesSent")

    app(apigw.message("say", "{}"))
    [line] = written
    document = json.loads(line)
    assert document["MessagesSent"] == 3
    assert document["Route"] == "say"
    app(apigw.message("say", "{}"))
    assert len(written) == 2 and json.loads(written[1])["MessagesSent"] == 3


def test_connect_records_the_connection_before_the_handler(
    table: str,  # noqa: F811
    apigw: Any,
) -> None:
    app = App()
    seen: list[Any] = []
    app.connect(lambda event: seen.append(app.connections.get(event.connection_id)))
    event = apigw.connect("conn-9=", authorizer={"principalId": "alice"})
    assert app(event)["statusCode"] == 200
    assert seen[0] is not None
    stored = app.connections.get("conn-9=")
    assert stored is not None
    assert stored["principal"] == "alice"
    assert stored["connectedAt"] == event["requestContext"]["connectedAt"]
    assert stored["identity"]["sourceIp"] == "127.0.0.1"


def test_refused_or_crashed_connect_leaves_no_connection_behind(
    table: str,  # noqa: F811
    apigw: Any,
) -> None:
    app = App()

    @app.connect
    def connect(event: Event) -> Response:
        if event.query.get("crash"):
            raise RuntimeError("boom")
        return Response(403)

    assert app(apigw.connect("conn-a=", query={"x": "1"}))["statusCode"] == 403
    assert app(apigw.connect("conn-b=", query={"crash": "1"}))["statusCode"] == 500
    assert app.connections.get("conn-a=") is None
    assert app.connections.get("conn-b=") is None


def test_disconnect_forgets_the_connection_and_its_rooms_even_if_the_handler_fails(
    table: str,  # noqa: F811
    apigw: Any,
) -> None:
    app = App()

    @app.disconnect
    def gone(event: Event) -> None:
        raise RuntimeError("cleanup bug")

    app(apigw.connect("conn-d="))
    app.rooms.join("conn-d=", "lobby")
    assert app(apigw.disconnect("conn-d="))["statusCode"] == 500
    assert app.connections.get("conn-d=") is None
    assert app.rooms.members("lobby") == []


def test_handlers_are_traced_as_xray_subsegments_in_a_traced_invocation(
    monkeypatch: pytest.MonkeyPatch,
    apigw: Any,
) -> None:
    core = pytest.importorskip("aws_xray_sdk.core", reason="needs aws_xray_sdk installed")
    from wsgate import tracing

    recorder = core.xray_recorder
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "chat")
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1")
    monkeypatch.setattr(tracing, "_possible", None)
    app = App()

    @app.route("say")
    def say(event: Event) -> None:
        raise BadRequest("no text")

    segment = recorder.begin_segment("test-invocation")
    try:
        app(apigw.message("say", "{}"))
        [subsegment] = segment.subsegments
        assert subsegment.name == "wsgate say"
        assert subsegment.annotations == {"route": "say"}
        assert subsegment.fault or subsegment.error or subsegment.cause
    finally:
        recorder.clear_trace_entities()
        monkeypatch.setattr(tracing, "_possible", None)


def test_nothing_is_traced_outside_lambda() -> None:
    from wsgate import tracing

    assert tracing.enabled() is False
    with tracing.subsegment("anything") as segment:
        assert segment is None


def test_response_is_immutable_and_compares_by_value() -> None:
    response = Response(401, headers={"Sec-WebSocket-Protocol": "chat"})
    assert response == Response(401, None, {"Sec-WebSocket-Protocol": "chat"})
    assert not response.ok and Response().ok
    with pytest.raises(AttributeError):
        response.status = 200  # type: ignore[misc]


SAMPLES = sorted((Path(__file__).resolve().parent.parent / "events").glob("*.json"))


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem[:60])
def test_every_captured_event_is_dispatched_to_its_handler(path: Path) -> None:
    raw = json.loads(path.read_text(encoding="utf-8-sig"))
    app = App()
    seen: list[str] = []
    for register in (app.connect, app.disconnect, app.default, app.route("chat")):
        register(lambda event: seen.append(event.route_key))
    assert app(raw, None)["statusCode"] == 200
    assert seen == [raw["requestContext"]["routeKey"]]


def test_a_lone_subprotocol_token_is_echoed_so_the_browser_accepts(apigw: Any) -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
    response = App()(apigw.connect(headers={"Sec-WebSocket-Protocol": token}))
    assert response["headers"] == {"Sec-WebSocket-Protocol": token}
