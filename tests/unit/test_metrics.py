"""Counters become one CloudWatch embedded-metric-format line per invocation."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
import wsgate
from mgmt_stub import ManagementStub, clean_env, mgmt  # noqa: F401 - fixtures
from wsgate import App, metrics


@pytest.fixture
def written(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    lines: list[str] = []
    monkeypatch.setattr(metrics, "writer", lines.append)
    metrics.set_route(None)
    return lines


def test_flush_writes_a_valid_emf_document(
    written: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "chat-dispatcher")
    metrics.set_route("say")
    metrics.incr("MessagesSent", 5)
    metrics.incr("MessagesGone")
    metrics.flush()
    [line] = written
    document: dict[str, Any] = json.loads(line)
    [directive] = document["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "wsgate"
    assert directive["Dimensions"] == [["Function", "Route"]]
    assert sorted(m["Name"] for m in directive["Metrics"]) == ["MessagesGone", "MessagesSent"]
    assert all(m["Unit"] == "Count" for m in directive["Metrics"])
    assert isinstance(document["_aws"]["Timestamp"], int)
    # Every dimension and metric named in the directive has its value at the top level.
    assert document["Function"] == "chat-dispatcher"
    assert document["Route"] == "say"
    assert (document["MessagesSent"], document["MessagesGone"]) == (5, 1)


def test_flush_resets_and_writes_nothing_without_counts(written: list[str]) -> None:
    assert metrics.flush() is None
    metrics.incr("Retries")
    metrics.flush()
    metrics.flush()
    assert len(written) == 1 and json.loads(written[0])["Retries"] == 1


def test_counts_from_many_threads_add_up(written: list[str]) -> None:
    def work() -> None:
        for _ in range(1000):
            metrics.incr("MessagesSent")

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    metrics.flush()
    assert json.loads(written[0])["MessagesSent"] == 8000


def test_messages_sent_by_a_handler_are_counted_in_its_invocation_line(
    written: list[str],
    mgmt: ManagementStub,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    apigw: Any,
) -> None:
    monkeypatch.setenv("WSGATE_ENDPOINT", mgmt.endpoint)
    mgmt.connect("a=", "b=")
    mgmt.disconnect("c=")
    app = App()

    @app.route("say")
    def say(event: Any) -> None:
        wsgate.broadcast(["a=", "b=", "c="], {"text": "hi"})

    app(apigw.message("say", "{}", connection_id="a="))
    [line] = written
    document = json.loads(line)
    assert document["MessagesSent"] == 2
    assert document["MessagesGone"] == 1
    assert document["Route"] == "say"
