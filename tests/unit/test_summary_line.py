"""The per-invocation summary line ``App`` writes directly to stdout is exactly the line the
JSON formatter would write for the same record (same fields, same values), so log queries see
no difference between the fast path and the ``logging`` path."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from wsgate import App, Response, logs


def formatter_line(
    event: dict[str, Any], level: int, message: str, **fields: Any
) -> dict[str, Any]:
    token = logs.current_event.set(event)
    try:
        record = logging.LogRecord("wsgate", level, __file__, 0, message, (), None)
        record.__dict__.update(fields)
        return dict(json.loads(logs.JsonFormatter().format(record)))
    finally:
        logs.current_event.reset(token)


def printed_summary(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    [line] = [json.loads(x) for x in capsys.readouterr().out.splitlines() if '"durationMs"' in x]
    return dict(line)


@pytest.fixture(name="info_level")
def info_level_fixture() -> Any:
    previous = logs.logger.level
    logs.logger.setLevel(logging.INFO)
    yield
    logs.logger.setLevel(previous)


def test_summary_of_a_message_matches_the_formatter(
    apigw: Any, capsys: pytest.CaptureFixture[str], info_level: None
) -> None:
    app = App()
    app.route("sáy")(lambda event: {"ok": True})
    event = apigw.message("sáy", "{}", connection_id='quo"te\\=')
    capsys.readouterr()
    app(event)
    printed = printed_summary(capsys)
    expected = formatter_line(event, logging.INFO, "sáy handled", statusCode=200, durationMs=0.0)
    assert printed.pop("durationMs") >= 0 and expected.pop("durationMs") == 0.0
    assert abs(printed.pop("timestamp") - expected.pop("timestamp")) < 60_000
    assert printed == expected
    assert printed["connectionId"] == 'quo"te\\='


def test_summary_of_a_refused_connect_carries_status_and_error(
    apigw: Any, capsys: pytest.CaptureFixture[str], info_level: None
) -> None:
    app = App()
    app.connect(lambda event: Response(401))
    event = apigw.connect()
    capsys.readouterr()
    app(event)
    printed = printed_summary(capsys)
    expected = formatter_line(
        event,
        logging.INFO,
        "$connect handled",
        statusCode=401,
        durationMs=0.0,
        error="connection refused",
    )
    for line in (printed, expected):
        line.pop("durationMs")
        line.pop("timestamp")
    assert printed == expected
    assert printed["statusCode"] == 401 and printed["error"] == "connection refused"


def test_summary_of_a_crash_is_an_error_line_even_at_warning_level(
    apigw: Any, capsys: pytest.CaptureFixture[str], info_level: None
) -> None:
    app = App()

    @app.route("boom")
    def boom(event: Any) -> None:
        raise RuntimeError("kaput")

    logs.logger.setLevel(logging.WARNING)
    event = apigw.message("boom", "{}")
    event["requestContext"]["connectionId"] = None  # nothing to send the error frame to
    capsys.readouterr()
    app(event)
    printed = printed_summary(capsys)
    assert printed["level"] == "ERROR" and printed["statusCode"] == 500
    assert printed["error"] == "internal_error" and printed["connectionId"] is None
    assert printed["routeKey"] == "boom" and printed["message"] == "boom handled"
