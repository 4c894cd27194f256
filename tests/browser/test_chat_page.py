"""The chat page in a real browser, talking to the chat example through `wsgate local`."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.slow

# Long enough for a handler worker's first (cold) call on a busy machine.
expect.set_options(timeout=20_000)


def unique_room(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def sign_in(page: Any, base: str, name: str, room: str, query: str = "") -> None:
    page.goto(f"{base}{query}" if base.endswith(".html") else f"{base}/{query}")
    page.get_by_label("Your name").fill(name)
    page.get_by_role("button", name="Connect").click()
    expect(page.locator("body")).to_have_attribute("data-state", "connected")
    page.get_by_label("Join or create a room").fill(room)
    page.get_by_label("Join or create a room").press("Enter")
    expect(page.get_by_role("heading", name=f"# {room}")).to_be_visible()
    expect(page.get_by_role("textbox", name="Message")).to_be_enabled()


def say(page: Any, text: str) -> None:
    """Types a message and sends it with the keyboard, as a user does."""
    box = page.get_by_role("textbox", name="Message")
    box.fill(text)
    box.press("Enter")


def record_frames(page: Any) -> tuple[list[str], list[str]]:
    """Collects the text frames the page sends and receives on its WebSockets from now on."""
    sent: list[str] = []
    received: list[str] = []

    def on_websocket(ws: Any) -> None:
        ws.on("framesent", lambda payload: sent.append(str(payload)))
        ws.on("framereceived", lambda payload: received.append(str(payload)))

    page.on("websocket", on_websocket)
    return sent, received


def wait_for(page: Any, condition: Any, seconds: float = 20) -> None:
    """Lets the page run until ``condition()`` holds (fails after ``seconds``)."""
    for _ in range(int(seconds * 10)):
        if condition():
            return
        page.wait_for_timeout(100)
    pytest.fail("the page did not get there in time")


def messages(page: Any) -> Any:
    return page.locator("#messages li.message")


def test_two_people_in_a_room_exchange_messages_and_the_sender_sees_each_once(
    chat_gateway: str, new_page: Any, artifacts: Path
) -> None:
    room = unique_room("lobby")
    alice = new_page()
    bob = new_page()
    sign_in(alice, chat_gateway, "alice", room)
    sign_in(bob, chat_gateway, "bob", room)

    # Each sees the other in the member list (bob from the join reply, alice from presence).
    expect(alice.locator("#members")).to_contain_text("bob")
    expect(bob.locator("#members")).to_contain_text("alice")

    # User text is shown as text: markup in a message never becomes elements.
    text = 'hi bob <img src=x onerror="document.title=1"> <b>bold</b>'
    say(alice, text)
    received = messages(bob).filter(has_text="hi bob")
    expect(received).to_have_count(1)
    expect(received.locator(".text")).to_have_text(text)
    expect(received.locator(".author")).to_have_text("alice")
    assert bob.locator("#messages img, #messages b").count() == 0

    # The sender's own message is confirmed by the server ("sent"), not echoed back a second time.
    mine = messages(alice).filter(has_text="hi bob")
    expect(mine).to_have_class("message mine sent")
    say(bob, "hello alice")
    expect(messages(alice).filter(has_text="hello alice")).to_have_count(1)
    expect(messages(alice).filter(has_text="hi bob")).to_have_count(1)
    expect(messages(bob).filter(has_text="hello alice")).to_have_count(1)
    expect(messages(bob).filter(has_text="hi bob")).to_have_count(1)

    alice.screenshot(path=str(artifacts / "chat-page.png"), full_page=True)

    # Leaving: bob's page drops the room, alice is told and her member list follows.
    bob.get_by_role("button", name="Leave room").click()
    expect(bob.get_by_role("heading", name="No room yet")).to_be_visible()
    expect(alice.locator("#messages li.notice").filter(has_text="bob left")).to_have_count(1)
    expect(alice.locator("#members li")).to_have_count(1)


def test_reload_and_newcomers_get_the_room_history(chat_gateway: str, new_page: Any) -> None:
    room = unique_room("history")
    alice = new_page()
    sign_in(alice, chat_gateway, "alice", room)
    say(alice, "first message")
    expect(messages(alice).filter(has_text="first message")).to_have_class("message mine sent")
    # Shift+Enter starts a new line instead of sending.
    box = alice.get_by_role("textbox", name="Message")
    box.type("second")
    box.press("Shift+Enter")
    box.type("message")
    expect(messages(alice)).to_have_count(1)
    box.press("Enter")
    expect(messages(alice).last).to_have_class("message mine sent")

    # A reload reconnects, rejoins the room and shows its history, each message once.
    alice.reload()
    expect(alice.get_by_role("heading", name=f"# {room}")).to_be_visible()
    expect(messages(alice)).to_have_count(2)
    expect(messages(alice).locator(".text")).to_have_text(["first message", "second message"])

    # Someone joining later sees the recent history too.
    carol = new_page()
    sign_in(carol, chat_gateway, "carol", room)
    expect(messages(carol).locator(".text")).to_have_text(["first message", "second message"])
    assert messages(carol).last.locator(".text").text_content() == "second\nmessage"


def test_message_over_api_gateway_limit_is_refused_with_a_visible_error(
    chat_gateway: str, new_page: Any
) -> None:
    room = unique_room("big")
    alice = new_page()
    sent, _ = record_frames(alice)
    sign_in(alice, chat_gateway, "alice", room)

    # 45,000 euro signs are 45,000 characters but 135,000 bytes of UTF-8: over 128 KB.
    say(alice, "€" * 45_000)
    expect(alice.get_by_role("alert")).to_contain_text("too large")
    expect(messages(alice)).to_have_count(0)
    assert any('"join"' in frame for frame in sent)  # the recorder does see this socket
    assert not any('"say"' in frame for frame in sent)
    # The connection stays usable.
    expect(alice.locator("body")).to_have_attribute("data-state", "connected")
    say(alice, "small again")
    expect(messages(alice).filter(has_text="small again")).to_have_class("message mine sent")


def test_text_over_the_chat_limit_shows_the_server_error_frame(
    chat_gateway: str, new_page: Any
) -> None:
    room = unique_room("long")
    alice = new_page()
    _, received = record_frames(alice)
    bob = new_page()
    sign_in(alice, chat_gateway, "alice", room)
    sign_in(bob, chat_gateway, "bob", room)

    say(alice, "x" * 4001)  # small enough for API Gateway, too long for the chat handler
    expect(alice.get_by_role("alert")).to_be_visible()
    expect(messages(alice).first).to_have_class("message mine failed")
    errors = [json.loads(frame) for frame in received if '"error"' in frame]
    assert errors and errors[0]["type"] == "error"
    expect(alice.get_by_role("alert")).to_contain_text(errors[0]["message"])
    say(alice, "short")
    expect(messages(bob).locator(".text")).to_have_text(["short"])


def test_page_reconnects_and_rejoins_its_rooms_when_the_connection_is_dropped(
    chat_gateway: str, new_page: Any
) -> None:
    room = unique_room("flaky")
    # ?backoff= shortens the first reconnect delay and ?ping= the keep-alive interval (seconds),
    # so the test does not wait for minutes.
    alice = new_page()
    sent, received = record_frames(alice)
    sign_in(alice, chat_gateway, "alice", room, query="?backoff=0.2&ping=1")
    bob = new_page()
    sign_in(bob, chat_gateway, "bob", room)
    body = alice.locator("body")
    expect(body).to_have_attribute("data-connection-id", re.compile(r".+"))
    first_id = body.get_attribute("data-connection-id")
    assert first_id

    # The server side drops the connection, as API Gateway does after 2 hours or an idle timeout.
    management = boto3.client(
        "apigatewaymanagementapi", endpoint_url=f"{chat_gateway}/dev", region_name="us-east-1"
    )
    management.delete_connection(ConnectionId=first_id)

    expect(body).not_to_have_attribute("data-connection-id", first_id)
    expect(body).to_have_attribute("data-connection-id", re.compile(r".+"))
    # Back in the room: the other member is told that alice joined (again).
    expect(bob.locator("#messages li.notice").filter(has_text="alice joined")).to_have_count(1)
    say(bob, "are you back?")
    expect(messages(alice).filter(has_text="are you back?")).to_have_count(1)
    say(alice, "yes")
    expect(messages(bob).filter(has_text="yes")).to_have_count(1)

    # The keep-alive: the page pings on its own and takes the pong quietly.
    wait_for(alice, lambda: any('"pong"' in frame for frame in received))
    assert any(json.loads(frame) == {"action": "ping"} for frame in sent)
    expect(alice.get_by_role("alert")).to_be_hidden()


def test_page_opened_from_disk_talks_to_the_stage_named_by_url(
    chat_gateway: str, new_page: Any
) -> None:
    """How the page reaches a deployed stage: index.html?url=wss://.../dev, no web server."""
    page_file = Path(__file__).resolve().parents[2] / "examples" / "chat" / "static" / "index.html"
    websocket_url = chat_gateway.replace("http://", "ws://") + "/dev"
    room = unique_room("remote")
    alice = new_page()
    sign_in(alice, page_file.as_uri(), "alice", room, query=f"?url={websocket_url}")
    expect(alice.locator("#server-url")).to_have_text(websocket_url)
    say(alice, "from a file")
    expect(messages(alice).filter(has_text="from a file")).to_have_class("message mine sent")


def test_keep_alive_ping_holds_an_idle_connection_open(
    impatient_gateway: str, new_page: Any
) -> None:
    room = unique_room("quiet")
    pinging = new_page()
    sent, _ = record_frames(pinging)
    sign_in(pinging, impatient_gateway, "alice", room, query="?ping=1")
    silent = new_page()  # the default ping interval (4 minutes) is far beyond this gateway's 3 s
    sign_in(silent, impatient_gateway, "bob", room)
    kept = pinging.locator("body").get_attribute("data-connection-id")
    dropped = silent.locator("body").get_attribute("data-connection-id")
    assert kept and dropped

    # The gateway closes the silent page's idle connection (which then reconnects) ...
    expect(silent.locator("body")).not_to_have_attribute("data-connection-id", dropped)
    expect(silent.locator("body")).to_have_attribute("data-connection-id", re.compile(r".+"))
    # ... while the pinging page, idle just as long, still has its first connection.
    wait_for(pinging, lambda: sum('"ping"' in frame for frame in sent) >= 4)
    expect(pinging.locator("body")).to_have_attribute("data-connection-id", kept)
