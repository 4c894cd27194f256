"""Property tests: the runtime's event view and ``App`` dispatch never crash on events shaped
like API Gateway's captures, whatever their values, and the client only ever hears defined
frames.

Each example starts from a real capture in ``tests/events`` and replaces its body, route key,
headers, query and request-context values with arbitrary JSON. ``App`` runs without a table;
``wsgate.messaging.send`` is replaced by a recorder, so every frame a client would get is seen.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
import wsgate
import wsgate.messaging
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wsgate import App, BadRequest, Event, Response

EVENTS = Path(__file__).resolve().parents[1] / "events"
CAPTURES = [
    event
    for event in (json.loads(p.read_text("utf-8-sig")) for p in sorted(EVENTS.glob("*.json")))
    if "requestContext" in event
]
ERROR_CODES = {"bad_request", "unknown_action", "payload_too_large", "internal_error"}
ERROR_KEYS = {"type", "code", "message", "requestId"}

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
route_keys = st.sampled_from(["$connect", "$disconnect", "$default", "echo", "boom", "bad"]) | (
    st.text(max_size=20)
)
bodies = (
    st.none()
    | st.text(max_size=200)
    | json_values.map(json.dumps)
    | st.builds(
        lambda action, rest: json.dumps({"action": action, **rest}),
        route_keys,
        st.dictionaries(st.text(max_size=8), json_values, max_size=3),
    )
)
names = st.sampled_from(["Sec-WebSocket-Protocol", "Authorization", "deny", "Host"]) | st.text(
    min_size=1, max_size=20
)
header_maps = st.none() | st.dictionaries(names, st.none() | st.text(max_size=60), max_size=5)
multi_maps = st.none() | st.dictionaries(
    names,
    st.none() | st.text(max_size=30) | st.lists(st.none() | st.text(max_size=30), max_size=3),
    max_size=4,
)
CONTEXT_FIELDS = (
    "connectedAt",
    "requestTimeEpoch",
    "identity",
    "authorizer",
    "disconnectStatusCode",
    "disconnectReason",
    "stage",
    "domainName",
    "apiId",
    "messageId",
    "eventType",
)


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    event = json.loads(json.dumps(draw(st.sampled_from(CAPTURES))))
    context = event["requestContext"]
    context["routeKey"] = draw(route_keys)
    context["connectionId"] = draw(st.sampled_from(["AAAAAAAAAAAAAAA=", "x"]))
    context["requestId"] = "req-under-test"
    for name in draw(st.lists(st.sampled_from(CONTEXT_FIELDS), unique=True, max_size=4)):
        context[name] = draw(json_values)
    event["body"] = draw(bodies)
    event["isBase64Encoded"] = draw(st.sampled_from([False, True, None, "true"]))
    event["headers"] = draw(header_maps)
    event["multiValueHeaders"] = draw(multi_maps)
    event["queryStringParameters"] = draw(header_maps)
    event["multiValueQueryStringParameters"] = draw(multi_maps)
    return event  # type: ignore[no-any-return]


def _app() -> App:
    app = App()

    @app.connect
    def connect(event: Event) -> Response | None:
        return None if event.query.get("deny") is None else Response(403)

    @app.route("echo")
    def echo(event: Event) -> Any:
        return event.json

    @app.route("boom")
    def boom(event: Event) -> None:
        raise RuntimeError("a handler bug")

    @app.route("bad")
    def bad(event: Event) -> None:
        raise BadRequest("nope")

    @app.default
    def default(event: Event) -> str | None:
        return event.body

    return app


APP = _app()
BARE_APP = App()  # no handlers at all: every message is an unknown action


@pytest.fixture
def frames(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    sent: list[tuple[str, Any]] = []
    monkeypatch.delenv("WSGATE_TABLE", raising=False)
    monkeypatch.setenv("WSGATE_ENDPOINT", "http://127.0.0.1:9/dev")
    monkeypatch.setattr(wsgate.messaging, "send", lambda cid, data, **kw: sent.append((cid, data)))
    return sent


FUZZ = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(event=events())
def test_event_view_reads_any_capture_shaped_event_without_raising(event: dict[str, Any]) -> None:
    view = Event(event)
    for name in (
        "connection_id",
        "route_key",
        "event_type",
        "request_id",
        "message_id",
        "stage",
        "domain_name",
        "api_id",
        "connected_at",
        "disconnect_status_code",
        "disconnect_reason",
        "identity",
        "source_ip",
        "user_agent",
        "authorizer",
        "principal_id",
        "is_base64_encoded",
    ):
        getattr(view, name)
    dict(view.headers)
    dict(view.query)
    # BadRequest (bad base64, bad JSON) is the one error the view raises, and only for the
    # message itself; App turns it into a bad_request frame.
    for name in ("body_bytes", "body", "json"):
        with contextlib.suppress(BadRequest):
            getattr(view, name)


@FUZZ
@given(event=events(), bare=st.booleans())
def test_dispatch_never_raises_and_clients_only_get_defined_frames(
    frames: list[tuple[str, Any]], event: dict[str, Any], bare: bool
) -> None:
    frames.clear()
    proxy = (BARE_APP if bare else APP)(event, None)
    assert isinstance(proxy["statusCode"], int)
    assert set(proxy) <= {"statusCode", "body", "headers", "isBase64Encoded"}
    for connection_id, frame in frames:
        assert connection_id == event["requestContext"]["connectionId"]
        assert set(frame) == ERROR_KEYS
        assert frame["type"] == "error" and frame["code"] in ERROR_CODES
        assert frame["requestId"] == "req-under-test"
        assert "a handler bug" not in frame["message"]
    if event["requestContext"]["routeKey"] in ("$connect", "$disconnect"):
        assert frames == []  # lifecycle events never send frames
