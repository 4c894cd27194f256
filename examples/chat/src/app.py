"""Chat rooms over one WebSocket: names, rooms, presence, and recent history on join.

The protocol (see README.md beside this directory): the client sends ``{"action": ...}``
messages (``hello``, ``join``, ``leave``, ``say``, ``members``, ``ping``); the server answers
with ``{"type": ...}`` messages. Names live on the connection item (``app.connections``),
membership and history in ``app.rooms``. Mistakes come back as the runtime's error frames.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from wsgate import App, BadRequest, Event

app = App()

ROOM = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_NAME = 32
MAX_TEXT = 4000
HISTORY = 50
ANONYMOUS = "anonymous"


def _field(event: Event, key: str) -> Any:
    body = event.json
    return body.get(key) if isinstance(body, dict) else None


def _room(event: Event) -> str:
    room = _field(event, "room")
    if not isinstance(room, str) or not ROOM.match(room):
        raise BadRequest("room must be 1 to 64 letters, digits, '-' or '_'")
    return room


def _valid_name(name: Any) -> bool:
    return isinstance(name, str) and 0 < len(name) <= MAX_NAME and name.isprintable()


def _name_in(item: dict[str, Any] | None) -> str:
    name = (item or {}).get("data", {}).get("name")
    return name if isinstance(name, str) else ANONYMOUS


def _name_of(connection_id: str) -> str:
    return _name_in(app.connections.get(connection_id))


def _members(room: str) -> list[dict[str, str]]:
    ids = app.rooms.members(room)
    items = app.connections.get_many(ids)  # one batch read per 100 members
    return [{"connectionId": cid, "name": _name_in(items.get(cid))} for cid in ids]


@app.connect
def connect(event: Event) -> None:
    name = event.query.get("name")
    if name is not None:
        if not _valid_name(name):
            raise BadRequest(f"name must be 1 to {MAX_NAME} printable characters")
        app.connections.update(event.connection_id, name=name)


@app.route("hello")
def hello(event: Event) -> None:
    name = _field(event, "name")
    if not _valid_name(name):
        raise BadRequest(f"name must be 1 to {MAX_NAME} printable characters")
    app.connections.update(event.connection_id, name=name)
    event.send({"type": "hello", "name": name, "connectionId": event.connection_id})


@app.route("join")
def join(event: Event) -> None:
    room = _room(event)
    cid = event.connection_id
    app.rooms.join(cid, room)
    name = _name_of(cid)
    event.send(
        {
            "type": "joined",
            "room": room,
            "members": _members(room),
            "history": app.rooms.history(room, limit=HISTORY),
        }
    )
    presence = {"type": "presence", "room": room, "event": "join", "name": name}
    app.rooms.publish(room, {**presence, "connectionId": cid}, exclude=[cid])


@app.route("leave")
def leave(event: Event) -> None:
    room = _room(event)
    cid = event.connection_id
    was_member = room in app.connections.rooms_of(cid)
    app.rooms.leave(cid, room)
    event.send({"type": "left", "room": room})
    if was_member:
        _announce_leave(cid, room, _name_of(cid))


@app.route("say")
def say(event: Event) -> None:
    room = _room(event)
    text = _field(event, "text")
    if not isinstance(text, str) or not 0 < len(text) <= MAX_TEXT:
        raise BadRequest(f"text must be 1 to {MAX_TEXT} characters")
    cid = event.connection_id
    if room not in app.connections.rooms_of(cid):
        raise BadRequest(f"join {room!r} before saying something there")
    message = {
        "type": "message",
        "room": room,
        "name": _name_of(cid),
        "connectionId": cid,
        "text": text,
        "ts": int(time.time() * 1000),
        "id": uuid.uuid4().hex,
    }
    app.rooms.publish(room, message, exclude=[cid], remember=True)
    event.send({"type": "sent", "room": room, "id": message["id"], "ts": message["ts"]})


@app.route("members")
def members(event: Event) -> None:
    room = _room(event)
    event.send({"type": "members", "room": room, "members": _members(room)})


@app.route("ping")
def ping(event: Event) -> None:
    event.send({"type": "pong"})


@app.disconnect
def disconnect(event: Event) -> None:
    # Runs before App removes the connection item, so its rooms and name are still there.
    cid = event.connection_id
    name = _name_of(cid)
    for room in app.connections.rooms_of(cid):
        app.rooms.leave(cid, room)
        _announce_leave(cid, room, name)


def _announce_leave(cid: str, room: str, name: str) -> None:
    presence = {"type": "presence", "room": room, "event": "leave", "name": name}
    app.rooms.publish(room, {**presence, "connectionId": cid}, exclude=[cid])
