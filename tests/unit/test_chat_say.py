"""The chat example's ``say``: it reports partial delivery honestly, and a retried ``say`` with
the same client-supplied id is stored once and delivered once (a retry reaches only the members
the first attempt missed). The handler runs as Lambda runs it, against moto's DynamoDB and a real
@connections server answering scripted 429s."""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path
from typing import Any

import pytest
from mgmt_stub import ManagementStub, all_items, clean_env, mgmt, table  # noqa: F401 - fixtures
from unit_support import connect_event, message_event

CHAT_APP = Path(__file__).resolve().parents[2] / "examples" / "chat" / "src" / "app.py"


class Context:
    """Lambda's context with ``ms`` milliseconds left in the invocation."""

    def __init__(self, ms: int = 3_000) -> None:
        self.deadline = time.monotonic() + ms / 1000
        self.aws_request_id = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@pytest.fixture
def chat(mgmt: ManagementStub, table: str, monkeypatch: pytest.MonkeyPatch) -> Any:  # noqa: F811
    monkeypatch.setenv("WSGATE_ENDPOINT", mgmt.endpoint)
    spec = importlib.util.spec_from_file_location("chat_example_app", CHAT_APP)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for cid in ("alice=", "bob=", "carol="):
        mgmt.connect(cid)
        module.app(connect_event(cid, query={"name": cid[:-1]}), Context())
        module.app(message_event("join", {"action": "join", "room": "r"}, cid), Context())
    mgmt.received.clear()
    return module


def frames(mgmt: ManagementStub, cid: str, kind: str) -> list[dict[str, Any]]:  # noqa: F811
    decoded = [json.loads(body) for body in mgmt.received.get(cid, [])]
    return [f for f in decoded if f.get("type") == kind]


def say(chat: Any, **fields: Any) -> None:
    body = {"action": "say", "room": "r", "text": "hello", **fields}
    chat.app(message_event("say", body, "alice="), Context())


def test_say_reports_how_many_members_got_the_message(chat: Any, mgmt: ManagementStub) -> None:  # noqa: F811
    mgmt.script("bob=", *[429] * 1000)  # bob's client cannot keep up, for longer than we try
    say(chat, id="msg-00000001")
    [sent] = frames(mgmt, "alice=", "sent")
    assert (sent["delivered"], sent["failed"]) == (1, 1)  # carol got it, bob did not
    assert len(frames(mgmt, "carol=", "message")) == 1


def test_retried_say_with_the_same_id_is_stored_once_and_delivered_once(
    chat: Any,
    mgmt: ManagementStub,  # noqa: F811
) -> None:
    mgmt.script("bob=", *[429] * 1000)
    say(chat, id="msg-00000002")
    mgmt.scripts["bob="].clear()  # bob reads again
    mgmt.received.pop("bob=", None)
    say(chat, id="msg-00000002", text="hello")  # the client's retry of the same message
    first, again = frames(mgmt, "alice=", "sent")
    assert (again["id"], again["ts"]) == (first["id"], first["ts"])
    assert (again["delivered"], again["failed"]) == (2, 0)
    assert len(frames(mgmt, "carol=", "message")) == 1  # not twice
    assert [m["id"] for m in frames(mgmt, "bob=", "message")] == ["msg-00000002"]
    history = [i for i in all_items() if str(i["sk"]).startswith("msg#")]
    assert len(history) == 1  # stored once


def test_say_id_must_look_like_an_id(chat: Any, mgmt: ManagementStub) -> None:  # noqa: F811
    say(chat, id="x")
    [error] = [json.loads(b) for b in mgmt.received["alice="]]
    assert error["code"] == "bad_request" and "id must be" in error["message"]
