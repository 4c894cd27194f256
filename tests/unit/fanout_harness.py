"""Test support for fan-out: the Lambda Invoke calls the runtime makes, captured, and run.

``Invocations`` hooks the runtime's stock boto3 Lambda client (botocore's ``before-call`` event:
an answer returned there is used instead of sending the request) and keeps each Event payload in
a queue, the way Lambda's asynchronous queue would. ``run`` then feeds the queued events to a
handler, as Lambda would; tests feed an event again to play a retry or a duplicate delivery.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from wsgate import _clients

FUNCTION = "chat-dispatcher"


class _Answer:
    """The HTTP side of an answer given in ``before-call`` (botocore reads its status)."""

    def __init__(self, status: int) -> None:
        self.status_code = status
        self.headers: dict[str, str] = {}
        self.content = b""


class Invocations:
    """Event payloads the runtime sent to Lambda, and what answered them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.queue: list[dict[str, Any]] = []
        self.calls: list[dict[str, Any]] = []  # every Invoke call: name, type, payload
        self.fail_next = 0  # answer this many of the next calls with a 500

    def before_call(self, model: Any, params: Any, **_: Any) -> Any:
        if model.name != "Invoke":
            return None
        headers = params.get("headers", {})
        body = params.get("body", b"")
        call = {
            "function": params.get("url_path", "").split("/functions/")[-1].split("/")[0],
            "type": headers.get("X-Amz-Invocation-Type"),
            "payload": json.loads(body),
            "size": len(body),
        }
        with self.lock:
            self.calls.append(call)
            if self.fail_next:
                self.fail_next -= 1
                error = {"Error": {"Code": "ServiceException", "Message": "injected"}}
                return _Answer(500), {**error, "ResponseMetadata": {"HTTPStatusCode": 500}}
            self.queue.append(call["payload"])
        return _Answer(202), {"StatusCode": 202, "ResponseMetadata": {"HTTPStatusCode": 202}}

    def take(self) -> list[dict[str, Any]]:
        with self.lock:
            taken, self.queue = self.queue, []
        return taken

    def run(self, handler: Callable[[dict[str, Any], Any], Any], context: Any = None) -> list[Any]:
        """Run every queued event (and those they queue) once, in order; their answers."""
        answers = []
        while True:
            events = self.take()
            if not events:
                return answers
            answers.extend(handler(event, context) for event in events)


@pytest.fixture(name="invocations")
def invocations_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[Invocations]:
    """Fan-out on, to ``chat-dispatcher``; the Invoke calls captured instead of sent."""
    monkeypatch.setenv("WSGATE_FANOUT_FUNCTION", FUNCTION)
    captured = Invocations()
    _clients.lambda_client().meta.events.register("before-call.lambda.Invoke", captured.before_call)
    yield captured


class Context:
    """A Lambda context whose remaining time is read from a list (the last value repeats)."""

    def __init__(self, *remaining_ms: int) -> None:
        self.remaining = list(remaining_ms)
        self.aws_request_id = "test-request"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining.pop(0) if len(self.remaining) > 1 else self.remaining[0]
