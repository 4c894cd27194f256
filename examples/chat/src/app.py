"""Chat rooms over one WebSocket: names, rooms, presence, and recent history on join.

The protocol (see README.md beside this directory): the client sends ``{"action": ...}``
messages (``hello``, ``join``, ``leave``, ``say``, ``members``, ``ping``); the server answers
with ``{"type": ...}`` messages. Names live on the connection item (``app.connections``),
membership and history in ``app.rooms``. Mistakes come back as the runtime's error frames.

``say`` is honest and safe to retry. Its ``sent`` answer says how many members got the message
and how many did not (after the runtime's retries ran out), and a client that gives the message
an ``id`` may send the same ``say`` again, after an error or a lost connection: the message is
stored and delivered once, and a retry only reaches the members the first attempt missed.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from wsgate import App, BadRequest, Event, broadcast
from wsgate.store import ROOM_PREFIX, from_dynamodb, table_name, to_dynamodb

app = App()

ROOM = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
#: How long a message id is remembered: a retry after that is a new message.
SAID_SECONDS = 24 * 60 * 60
#: A ``say`` still marked in progress after this long died before it finished (API Gateway
#: gives up on an integration after 29 s), so a retry takes over.
ABANDONED_MS = 30_000
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
    message_id = _field(event, "id")
    if message_id is not None and not (
        isinstance(message_id, str) and MESSAGE_ID.match(message_id)
    ):
        raise BadRequest(
            "id must be 8 to 64 letters, digits, '-' or '_': a new one for each message, "
            "the same one when sending it again"
        )
    cid = event.connection_id
    speaker = app.connections.get(cid)  # its rooms and its name, in one read
    if room not in (speaker or {}).get("rooms", []):
        raise BadRequest(f"join {room!r} before saying something there")
    message = {
        "type": "message",
        "room": room,
        "name": _name_in(speaker),
        "connectionId": cid,
        "text": text,
        "ts": int(time.time() * 1000),
        "id": message_id or uuid.uuid4().hex,
    }
    earlier = _claim(room, message) if message_id else None
    if earlier is None:  # a new message: store it, then publish it
        report = app.rooms.publish(room, message, exclude=[cid], remember=True)
        delivered, failed = len(report.delivered), list(report.failed)
    else:  # a retry: stored already; deliver only to the members the first attempt missed
        message = _json_message(earlier)
        outcome = _redeliver(room, message, earlier, exclude=cid)
        if outcome is None:  # the first attempt is still publishing; it will answer itself
            event.send(
                {
                    "type": "sent",
                    "room": room,
                    "id": message["id"],
                    "ts": message["ts"],
                    "inProgress": True,
                }
            )
            return
        delivered, failed = outcome
    if message_id:
        _settle(room, message["id"], delivered, failed)
    event.send(
        {
            "type": "sent",
            "room": room,
            "id": message["id"],
            "ts": message["ts"],
            "delivered": delivered,
            "failed": len(failed),
        }
    )


def _said_key(room: str, message_id: str) -> dict[str, Any]:
    return {"pk": {"S": ROOM_PREFIX + room}, "sk": {"S": f"said#{message_id}"}}


def _dynamodb() -> Any:
    import boto3  # only a say with an id needs it

    global _client
    if _client is None:
        _client = boto3.client("dynamodb")
    return _client


_client: Any = None


def _claim(room: str, message: dict[str, Any]) -> dict[str, Any] | None:
    """Record that ``message["id"]`` is being said in ``room``. None when it is new; else the
    record of the earlier attempt (whose message, not this one, is the one to deliver)."""
    client = _dynamodb()
    now = int(time.time())
    record = {
        "message": message,
        "state": "publishing",
        "claimedAt": int(time.time() * 1000),
        "ttl": now + SAID_SECONDS,
    }
    try:
        client.put_item(
            TableName=table_name(),
            Item={**_said_key(room, message["id"]), **to_dynamodb(record)},
            ConditionExpression="attribute_not_exists(pk)",
        )
        return None
    except client.exceptions.ConditionalCheckFailedException:
        answer = client.get_item(
            TableName=table_name(), Key=_said_key(room, message["id"]), ConsistentRead=True
        )
        return from_dynamodb(answer["Item"])


def _json_message(record: dict[str, Any]) -> dict[str, Any]:
    stored = record["message"]
    return {k: int(v) if k == "ts" else v for k, v in stored.items()}


def _redeliver(
    room: str, message: dict[str, Any], record: dict[str, Any], *, exclude: str
) -> tuple[int, list[str]] | None:
    """(delivered in all, still failed) after sending ``message`` again where it is owed;
    None while the first attempt is still publishing."""
    members = [m for m in app.rooms.members(room) if m != exclude]
    if record.get("state") == "done":
        owed = set(record.get("failed") or [])
        targets = [m for m in members if m in owed]
        already = int(record.get("delivered") or 0)
    elif int(time.time() * 1000) - int(record.get("claimedAt") or 0) > ABANDONED_MS:
        targets, already = members, 0  # the first attempt died before it published
    else:
        return None  # the first attempt is still publishing: it reaches everyone it can
    report = broadcast(targets, message) if targets else None
    if report is None:
        return already, []
    return already + len(report.delivered), list(report.failed)


def _settle(room: str, message_id: str, delivered: int, failed: list[str]) -> None:
    """Mark the message as published, with the members a retry still owes it to."""
    _dynamodb().update_item(
        TableName=table_name(),
        Key=_said_key(room, message_id),
        UpdateExpression="SET #state = :done, delivered = :delivered, failed = :failed",
        ExpressionAttributeNames={"#state": "state"},
        ExpressionAttributeValues={
            ":done": {"S": "done"},
            ":delivered": {"N": str(delivered)},
            ":failed": {"L": [{"S": cid} for cid in failed]},
        },
    )


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
    leaving = app.connections.get(cid)  # its rooms and its name, in one read
    name = _name_in(leaving)
    for room in (leaving or {}).get("rooms", []):
        app.rooms.leave(cid, room)
        _announce_leave(cid, room, name)


def _announce_leave(cid: str, room: str, name: str) -> None:
    presence = {"type": "presence", "room": room, "event": "leave", "name": name}
    app.rooms.publish(room, {**presence, "connectionId": cid}, exclude=[cid])
