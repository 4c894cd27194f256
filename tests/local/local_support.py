"""Helpers of the local gateway's end-to-end tests (imported as ``local_support``; a module of
its own, because ``from conftest import`` can pick another directory's conftest)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wsgate_local.testing import RunningGateway, start_gateway

HERE = Path(__file__).resolve().parent
RECORDER = HERE / "apps" / "recorder"
ROOT = HERE.parents[1]


class Recorder:
    """Reads what the recorder app's handlers saw (one JSON document per line)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.touch()

    def entries(self) -> list[dict[str, Any]]:
        # a line still being appended (a long event is written in several chunks) is skipped
        text = self.path.read_text()
        complete = text[: text.rfind("\n") + 1]
        return [json.loads(line) for line in complete.splitlines() if line]

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 15.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for entry in self.entries():
                if predicate(entry):
                    return entry
            if time.monotonic() > deadline:
                raise AssertionError(f"no matching record in {self.entries()!r}")
            time.sleep(0.05)

    def event(self, connection_id: str, event_type: str, timeout: float = 15.0) -> dict[str, Any]:
        """The handler's event of ``event_type`` for the connection."""
        entry = self.wait_for(
            lambda e: (
                e["kind"] == "invoke"
                and e["event"]["requestContext"]["connectionId"] == connection_id
                and e["event"]["requestContext"]["eventType"] == event_type
            ),
            timeout,
        )
        return entry["event"]  # type: ignore[no-any-return]

    def connect_event_where(self, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        entry = self.wait_for(
            lambda e: (
                e["kind"] == "invoke"
                and e["event"]["requestContext"]["eventType"] == "CONNECT"
                and predicate(e["event"])
            )
        )
        return entry["event"]  # type: ignore[no-any-return]


def recorder_gateway(tmp: Path, **overrides: Any) -> tuple[RunningGateway, Recorder]:
    record = Recorder(tmp / "events.jsonl")
    environment = {"RECORDER_GREETING": "from main.tf", "RECORD_FILE": str(record.path)}
    gw = start_gateway(RECORDER, environment=environment, **overrides)
    return gw, record


def connect_tagged(
    gw: RunningGateway, record: Recorder, query: dict[str, str] | None = None, **kwargs: Any
) -> tuple[Any, str]:
    """Open a connection and learn its id from the CONNECT event the handler recorded."""
    tag = uuid.uuid4().hex
    client = gw.connect(query={**(query or {}), "tag": tag}, **kwargs)
    event = record.connect_event_where(
        lambda e: (e.get("queryStringParameters") or {}).get("tag") == tag
    )
    return client, event["requestContext"]["connectionId"]
