"""Log lines are JSON, carry the invocation's ids, follow WSGATE_LOG_LEVEL and hide secrets."""

from __future__ import annotations

import json
import logging
import string
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from wsgate import App, logs
from wsgate.events import Event

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"


def test_authorization_and_cookie_headers_are_masked_in_both_maps(apigw: Any) -> None:
    event = apigw.connect(
        headers={"Authorization": f"Bearer {TOKEN}", "Cookie": "sid=1", "X-Trace": "keep"}
    )
    safe = logs.redact_event(event)
    assert safe["headers"]["Authorization"] == logs.REDACTED
    assert safe["headers"]["Cookie"] == logs.REDACTED
    assert safe["headers"]["X-Trace"] == "keep"
    assert safe["multiValueHeaders"]["Authorization"] == [logs.REDACTED]
    assert TOKEN not in json.dumps(safe)
    assert event["headers"]["Authorization"] == f"Bearer {TOKEN}"  # the event is not changed


def test_subprotocol_tokens_are_masked_but_protocol_names_kept(apigw: Any) -> None:
    event = apigw.connect(headers={"Sec-WebSocket-Protocol": f"bearer, {TOKEN}, chat.v1"})
    safe = logs.redact_event(event)
    assert safe["headers"]["Sec-WebSocket-Protocol"] == f"bearer, {logs.REDACTED}, chat.v1"
    assert TOKEN not in json.dumps(safe)


@pytest.mark.parametrize(
    "name",
    ["token", "access_token", "auth", "Authorization", "key", "api_key", "password", "secret"],
)
def test_token_like_query_parameters_are_masked(name: str, apigw: Any) -> None:
    event = apigw.connect(query={name: "s3cr3t-value", "room": "lobby"})
    safe = logs.redact_event(event)
    assert safe["queryStringParameters"] == {name: logs.REDACTED, "room": "lobby"}
    assert safe["multiValueQueryStringParameters"][name] == [logs.REDACTED]
    assert "s3cr3t-value" not in json.dumps(safe)


def test_lines_logged_inside_a_handler_carry_the_invocation_ids(
    log_lines: list[dict[str, Any]],
    apigw: Any,
) -> None:
    app = App()
    user_log = logging.getLogger("wsgate.user")

    @app.route("say")
    def say(event: Event) -> None:
        user_log.warning("something odd", extra={"room": "lobby"})

    event = apigw.message("say", "{}", connection_id="conn-7=")
    app(event)
    [line] = [line for line in log_lines if line["message"] == "something odd"]
    assert line["level"] == "WARNING"
    assert line["connectionId"] == "conn-7="
    assert line["requestId"] == event["requestContext"]["requestId"]
    assert line["routeKey"] == "say"
    assert line["room"] == "lobby"
    outside = logs.JsonFormatter().format(logging.makeLogRecord({"msg": "later"}))
    assert "connectionId" not in json.loads(outside)


APP_SCRIPT = """
import json, sys
from wsgate import App
app = App()
app.route("say")(lambda event: None)
app(json.load(sys.stdin))
"""


def run_app_in_fresh_interpreter(level: str | None, apigw: Any) -> list[dict[str, Any]]:
    """Run one invocation in a new interpreter, as Lambda does, and parse what it printed."""
    env = {"PATH": "/usr/bin:/bin", "AWS_REGION": "us-east-1"}
    if level:
        env["WSGATE_LOG_LEVEL"] = level
    out = subprocess.run(
        [sys.executable, "-c", APP_SCRIPT],
        input=json.dumps(apigw.message("say", "{}")),
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_app_prints_one_json_line_per_invocation_to_stdout(apigw: Any) -> None:
    [line] = [x for x in run_app_in_fresh_interpreter(None, apigw) if "durationMs" in x]
    assert line["level"] == "INFO" and line["routeKey"] == "say"
    assert line["connectionId"] == "conn-1=" and line["requestId"].endswith("=")
    assert line["statusCode"] == 200 and line["durationMs"] >= 0


def test_wsgate_log_level_silences_info_lines(apigw: Any) -> None:
    assert [x for x in run_app_in_fresh_interpreter("WARNING", apigw) if "durationMs" in x] == []


def test_the_summary_line_is_the_formatters_and_keeps_ids_json_must_escape(
    log_lines: list[dict[str, Any]], apigw: Any
) -> None:
    app = App()
    app.route("sáy")(lambda event: None)
    event = apigw.message("sáy", "{}", connection_id='quo"te\\=')
    app(event)
    [line] = [line for line in log_lines if "durationMs" in line]
    assert line["message"] == "sáy handled" and line["level"] == "INFO"
    assert line["connectionId"] == 'quo"te\\=' and line["routeKey"] == "sáy"
    assert line["requestId"] == event["requestContext"]["requestId"]
    assert line["statusCode"] == 200 and line["durationMs"] >= 0 and line["logger"] == "wsgate"


def test_caplog_and_a_users_root_handler_see_wsgate_records(
    apigw: Any, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    root = logging.getLogger()
    mine = Keep()
    root.addHandler(mine)
    try:
        app = App()
        assert logs.logger.propagate
        app.route("say")(lambda event: None)
        with caplog.at_level(logging.INFO, logger="wsgate"):
            app(apigw.message("say", "{}"))
    finally:
        root.removeHandler(mine)
    assert any(r.name == "wsgate" and r.getMessage() == "say handled" for r in caplog.records)
    assert [r.getMessage() for r in seen if r.name == "wsgate"] == ["say handled"]


def test_the_lambda_runtime_root_handler_skips_lines_wsgate_already_wrote(
    apigw: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    printed: list[str] = []

    class LambdaLoggerHandler(logging.Handler):  # the name the Python runtime's handler has
        def emit(self, record: logging.LogRecord) -> None:
            printed.append(record.getMessage())

    root = logging.getLogger()
    runtime_handler = LambdaLoggerHandler()
    root.addHandler(runtime_handler)
    try:
        app = App()
        app.route("say")(lambda event: None)
        app(apigw.message("say", "{}"))
        logging.getLogger("elsewhere").warning("not ours")
    finally:
        root.removeHandler(runtime_handler)
    assert printed == ["not ours"]  # wsgate's line once, on stdout, as JSON
    assert [json.loads(x)["message"] for x in capsys.readouterr().out.splitlines()] == [
        "say handled"
    ]


def test_debug_level_logs_each_event_with_credentials_masked(
    log_lines: list[dict[str, Any]],
    apigw: Any,
) -> None:
    app = App()
    logs.logger.setLevel(logging.DEBUG)
    try:
        app(apigw.connect(headers={"Authorization": TOKEN}, query={"token": TOKEN, "room": "a"}))
    finally:
        logs.logger.setLevel(logs.level_from_env())
    [line] = [line for line in log_lines if line["message"] == "event received"]
    assert line["event"]["queryStringParameters"]["room"] == "a"
    assert line["event"]["requestContext"]["routeKey"] == "$connect"
    assert TOKEN not in json.dumps(log_lines)


@given(
    name=st.sampled_from(sorted(logs.SECRET_QUERY)),
    secret=st.text(alphabet=string.ascii_letters + string.digits + "-_.~", min_size=8),
    upper=st.booleans(),
)
def test_no_spelling_of_a_secret_parameter_leaks_its_value(
    name: str, secret: str, upper: bool
) -> None:
    key = name.upper() if upper else name
    raw = {
        "queryStringParameters": {key: secret, "room": "lobby"},
        "multiValueQueryStringParameters": {key: [secret, secret], "room": ["lobby"]},
        "requestContext": {"routeKey": "$connect"},
    }
    safe = logs.redact_event(raw)
    assert safe["queryStringParameters"] == {key: logs.REDACTED, "room": "lobby"}
    assert safe["multiValueQueryStringParameters"] == {
        key: [logs.REDACTED, logs.REDACTED],
        "room": ["lobby"],
    }


def test_a_level_set_in_code_is_kept_unless_the_environment_names_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("WSGATE_LOG_LEVEL", raising=False)
    previous = logs.logger.level
    try:
        logs.logger.setLevel(logging.ERROR)
        App()
        assert logs.logger.level == logging.ERROR
        monkeypatch.setenv("WSGATE_LOG_LEVEL", "debug")
        App()
        assert logs.logger.level == logging.DEBUG
    finally:
        logs.logger.setLevel(previous)


def test_a_short_token_after_the_bearer_marker_is_masked_as_the_authorizer_reads_it(
    apigw: Any,
) -> None:
    from wsgate.auth import AuthRequest

    event = apigw.connect(headers={"Sec-WebSocket-Protocol": "chat.v1, bearer, q7Zk9"})
    assert AuthRequest(event).token == "q7Zk9"  # what the authorizer helper takes as the token
    safe = logs.redact_event(event)
    assert safe["headers"]["Sec-WebSocket-Protocol"] == f"chat.v1, bearer, {logs.REDACTED}"
    assert "q7Zk9" not in json.dumps(safe)


protocol_names = st.text(alphabet=string.ascii_letters + string.digits + "-_.", min_size=1)


@given(st.lists(st.one_of(protocol_names, st.sampled_from(["bearer", "token"])), min_size=1))
def test_whatever_the_authorizer_reads_as_a_subprotocol_token_is_never_logged(
    protocols: list[str],
) -> None:
    from wsgate.auth import AuthRequest

    header = ", ".join(protocols)
    raw = {"headers": {"Sec-WebSocket-Protocol": header}, "requestContext": {}}
    token = AuthRequest(raw).token
    shown = [
        item.strip()
        for item in logs.redact_event(raw)["headers"]["Sec-WebSocket-Protocol"].split(",")
    ]
    if token is not None:
        assert token not in shown


@pytest.mark.parametrize(
    "name", ["X-Auth-Token", "X-Session-Id", "X-Api-Secret", "X-Signature", "Private-Key"]
)
def test_headers_named_like_credentials_are_masked(name: str, apigw: Any) -> None:
    event = apigw.connect(headers={name: "s3cr3t-value", "Sec-WebSocket-Key": "dGhlIG5vbmNl"})
    safe = logs.redact_event(event)
    assert safe["headers"][name] == logs.REDACTED
    assert safe["multiValueHeaders"][name] == [logs.REDACTED]
    assert safe["headers"]["Sec-WebSocket-Key"] == "dGhlIG5vbmNl"  # a nonce, not a secret
    assert "s3cr3t-value" not in json.dumps(safe)


@pytest.mark.parametrize("name", ["jwt", "id_token", "sig", "X-Amz-Signature", "session"])
def test_query_keys_named_like_credentials_are_masked(name: str, apigw: Any) -> None:
    event = apigw.connect(query={name: "s3cr3t-value", "room": "lobby"})
    safe = logs.redact_event(event)
    assert safe["queryStringParameters"] == {name: logs.REDACTED, "room": "lobby"}


def test_credential_shaped_values_are_masked_whatever_their_name(apigw: Any) -> None:
    event = apigw.connect(headers={"X-Forward": f"Bearer {TOKEN}"}, query={"t": TOKEN})
    safe = logs.redact_event(event)
    assert safe["headers"]["X-Forward"] == logs.REDACTED
    assert safe["queryStringParameters"]["t"] == logs.REDACTED


def test_message_bodies_are_logged_only_when_the_user_opts_in(
    apigw: Any, log_lines: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = App()
    app.route("say")(lambda event: None)
    secret_text = "my card number is 4111 1111 1111 1111"
    logs.logger.setLevel(logging.DEBUG)
    try:
        app(apigw.message("say", {"action": "say", "text": secret_text}))
        monkeypatch.setenv("WSGATE_LOG_BODIES", "true")
        app(apigw.message("say", {"action": "say", "text": "fine to log"}))
    finally:
        logs.logger.setLevel(logs.level_from_env())
    first, second = [line["event"] for line in log_lines if line["message"] == "event received"]
    assert secret_text not in json.dumps(log_lines)
    assert "WSGATE_LOG_BODIES=true" in first["body"]
    assert json.loads(second["body"])["text"] == "fine to log"


def test_extra_fields_keep_the_order_they_were_given_in() -> None:
    # A field order that changed from one process to the next made lines hard to compare.
    names = [f"field{i}" for i in range(12)]
    record = logging.getLogger("wsgate").makeRecord(
        "wsgate", logging.INFO, __file__, 0, "m", (), None, extra={n: 1 for n in names}
    )
    line = json.loads(logs.JsonFormatter().format(record))
    assert [key for key in line if key.startswith("field")] == names


def test_a_filters_field_is_logged_and_another_formatters_work_is_not() -> None:
    # A user's filter may add a field after the record was made (the request id of their
    # framework, say); another handler's formatter may have set ``message`` and ``asctime``.
    record = logging.getLogger("wsgate").makeRecord(
        "wsgate", logging.INFO, __file__, 0, "%s handled", ("join",), None, extra={"room": "a"}
    )
    logging.Formatter("%(asctime)s %(message)s").format(record)
    record.tenant = "t1"
    record._private = "not a field"
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["message"] == "join handled"
    assert (line["room"], line["tenant"]) == ("a", "t1")
    assert not {"asctime", "_private", "args", "msg"} & line.keys()
