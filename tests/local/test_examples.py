"""The echo and chat examples, end to end through the local gateway."""

from __future__ import annotations

import urllib.request

import pytest
from local_support import ROOT


@pytest.fixture(scope="module")
def chat():
    from wsgate_local.testing import start_gateway

    gw = start_gateway(ROOT / "examples" / "chat")
    try:
        yield gw
    finally:
        gw.stop()


def test_echo_sends_every_message_back(wsgate_gateway):
    gw = wsgate_gateway(ROOT / "examples" / "echo")
    with gw.connect() as client:
        client.send('{"action": "anything", "n": 1}')
        assert client.recv_json() == {"action": "anything", "n": 1}
        client.send("plain text")
        assert client.recv() == "plain text"


def hello(gw, name):
    client = gw.connect()
    client.send_json({"action": "hello", "name": name})
    reply = client.recv_json()
    assert reply["type"] == "hello" and reply["name"] == name
    return client, reply["connectionId"]


def test_two_people_chat_in_a_room(chat):
    alice, alice_id = hello(chat, "alice")
    bob, bob_id = hello(chat, "bob")
    with alice, bob:
        alice.send_json({"action": "join", "room": "lobby"})
        joined = alice.recv_json()
        assert joined["type"] == "joined" and joined["room"] == "lobby"
        bob.send_json({"action": "join", "room": "lobby"})
        joined = bob.recv_json()
        assert {"connectionId": alice_id, "name": "alice"} in joined["members"]
        presence = alice.recv_json()
        assert presence == {
            "type": "presence",
            "room": "lobby",
            "event": "join",
            "name": "bob",
            "connectionId": bob_id,
        }
        alice.send_json({"action": "say", "room": "lobby", "text": "hi bob"})
        sent = alice.recv_json()
        message = bob.recv_json()
        assert sent == {
            "type": "sent",
            "room": "lobby",
            "id": message["id"],
            "ts": message["ts"],
            "delivered": 1,  # bob
            "failed": 0,
        }
        assert message == {
            "type": "message",
            "room": "lobby",
            "name": "alice",
            "connectionId": alice_id,
            "text": "hi bob",
            "ts": sent["ts"],
            "id": sent["id"],
        }
        bob.send_json({"action": "members", "room": "lobby"})
        members = bob.recv_json()
        assert members["type"] == "members"
        assert {m["name"] for m in members["members"]} == {"alice", "bob"}
        bob.send_json({"action": "ping"})
        assert bob.recv_json() == {"type": "pong"}
    # leaving by closing: the remaining member hears about it
    carol, _ = hello(chat, "carol")
    with carol:
        carol.send_json({"action": "join", "room": "lobby"})
        # alice's and bob's $disconnect may announce their leaving to carol before her reply
        history = carol.recv_until(lambda m: m.get("type") == "joined")["history"]
        assert [m["text"] for m in history if m["type"] == "message"][-1:] == ["hi bob"]


def test_joiner_gets_history_and_leaving_is_announced(chat):
    dave, _ = hello(chat, "dave")
    with dave:
        dave.send_json({"action": "join", "room": "history"})
        dave.recv_json()
        dave.send_json({"action": "say", "room": "history", "text": "first"})
        dave.recv_json()
        erin = chat.connect(query={"name": "erin"})  # the name can come with the handshake
        with erin:
            erin.send_json({"action": "join", "room": "history"})
            joined = erin.recv_json()
            assert [m["text"] for m in joined["history"]] == ["first"]
            assert dave.recv_json()["name"] == "erin"
            erin.send_json({"action": "leave", "room": "history"})
            assert erin.recv_json() == {"type": "left", "room": "history"}
            left = dave.recv_json()
            assert (left["type"], left["event"], left["name"]) == ("presence", "leave", "erin")
            erin.send_json({"action": "join", "room": "history"})
            erin.recv_json()
            dave.recv_json()
        gone = dave.recv_json()  # erin closed her connection: $disconnect announces it
        assert (gone["type"], gone["event"], gone["name"]) == ("presence", "leave", "erin")


@pytest.mark.parametrize(
    "message",
    [
        {"action": "join", "room": "no spaces"},
        {"action": "say", "room": "lobby", "text": "x" * 4001},
        {"action": "say", "room": "never-joined", "text": "hi"},
        {"action": "hello", "name": "x" * 33},
        {"action": "dance"},
    ],
)
def test_bad_requests_get_runtime_error_frames(chat, message):
    with chat.connect() as client:
        client.send_json(message)
        frame = client.recv_json()
        assert frame["type"] == "error"
        assert frame["code"] in {"bad_request", "unknown_action"}
        assert set(frame) == {"type", "code", "message", "requestId"}


def test_chat_page_is_served_at_the_root(chat):
    base = chat.url.replace("ws://", "http://").rsplit("/", 1)[0]
    with urllib.request.urlopen(base + "/", timeout=10) as page:
        assert page.status == 200
        assert b"<html" in page.read().lower()
