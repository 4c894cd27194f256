"""Rooms: named groups of connections to publish to, with an optional message history.

Members and history live in the room's partition of the connection table (see ``wsgate.store``
for the layout), so ``members`` and ``history`` are each one paginated Query. Joining is a
transaction conditioned on the connection still being in the store, which is what keeps a join
that races a disconnect from leaving a stray membership behind.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any, overload

from . import _json
from ._clients import dynamodb_client
from .errors import BadRequest, Gone
from .fanout import deliver, shard_size
from .messaging import BroadcastReport, encode, fanout_limit
from .store import (
    CONNECTION_PREFIX,
    ROOM_PREFIX,
    connection_key,
    connection_ttl,
    from_dynamodb,
    membership_key,
    query_all,
    query_pages,
    remove_memberships,
    table_name,
    to_dynamodb,
    transact,
)

#: How long remembered messages stay in a room's history.
HISTORY_SECONDS = 24 * 60 * 60
HISTORY_PREFIX = "msg#"
#: Longest room name accepted (it is part of a DynamoDB partition key).
MAX_ROOM_LENGTH = 256
#: Items per Query page when listing members (DynamoDB also stops a page at 1 MB).
PAGE_SIZE = 500


class Rooms:
    """Room membership and publishing: ``wsgate.rooms``."""

    def join(self, connection_id: str, room: str) -> None:
        """Add the connection to ``room`` (joining twice is harmless).

        Raises ``Gone`` when the connection is not in the store (it has disconnected, or
        ``$connect`` did not record it), in which case nothing is written.
        """
        _check_room(room)
        table = table_name()
        ttl = connection_ttl()
        joined = transact(
            [
                {
                    "Update": {
                        "TableName": table,
                        "Key": connection_key(connection_id),
                        # The connection expires with its newest membership, never before it.
                        "UpdateExpression": "ADD #rooms :room SET #ttl = :ttl",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeNames": {"#rooms": "rooms", "#ttl": "ttl"},
                        "ExpressionAttributeValues": {
                            ":room": {"SS": [room]},
                            ":ttl": {"N": str(ttl)},
                        },
                    }
                },
                {
                    "Put": {
                        "TableName": table,
                        "Item": {
                            **membership_key(room, connection_id),
                            **to_dynamodb(
                                {
                                    "connectionId": connection_id,
                                    "room": room,
                                    "joinedAt": int(time.time() * 1000),
                                    "ttl": ttl,
                                }
                            ),
                        },
                    }
                },
            ]
        )
        if not joined:
            raise Gone(connection_id)

    def leave(self, connection_id: str, room: str) -> None:
        """Remove the connection from ``room``; leaving a room one is not in is harmless."""
        _check_room(room)
        table = table_name()
        left = transact(
            [
                {"Delete": {"TableName": table, "Key": membership_key(room, connection_id)}},
                {
                    "Update": {
                        "TableName": table,
                        "Key": connection_key(connection_id),
                        "UpdateExpression": "DELETE #rooms :room",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeNames": {"#rooms": "rooms"},
                        "ExpressionAttributeValues": {":room": {"SS": [room]}},
                    }
                },
            ]
        )
        if not left:
            # The connection item is gone; make sure no membership outlives it.
            remove_memberships(table, connection_id, [room])

    def members(self, room: str) -> list[str]:
        """Every connection id in ``room`` (all pages; expired memberships left out)."""
        _check_room(room)
        now = time.time()
        items = query_all(
            _member_query(room),
            page_size=PAGE_SIZE,
            keep=lambda item: _alive(item, now),
        )
        return [str(item["connectionId"]) for item in items]

    def publish(
        self,
        room: str,
        data: Any,
        *,
        exclude: Iterable[str] = (),
        remember: bool = False,
        endpoint: str | None = None,
        fanout_threshold: int | None = None,
    ) -> BroadcastReport:
        """Broadcast ``data`` to the members of ``room`` except ``exclude``.

        With ``remember=True`` the message (a dict or a str) is first added to the room's
        history, so a member joining meanwhile finds it there; a dict gets ``ts`` (epoch ms) and
        ``id`` keys if it has none. Gone members are removed from the room, as with
        ``wsgate.broadcast``.

        A room of more than ``fanout_threshold`` members (default: ``WSGATE_FANOUT_THRESHOLD``,
        else 1,000) is fanned out over parallel invocations (``wsgate.fanout``): the members are
        read page by page and the call returns a ``FanoutReport`` once the shards are started.
        """
        _check_room(room)
        if remember:
            if not isinstance(data, dict | str):
                raise TypeError(
                    f"publish(remember=True) stores dict or str messages, not {type(data).__name__}"
                )
            data = self.remember(room, data)
        payload = encode(data)  # refuses an oversized message before querying the members
        skip = {exclude} if isinstance(exclude, str) else set(exclude)
        limit = fanout_limit(fanout_threshold)
        pages = (
            [cid for cid in page if cid not in skip]
            for page in self.member_pages(room, first_page=limit + 1)
        )
        return deliver(pages, payload, endpoint=endpoint, threshold=limit, target=f"room:{room}")

    def member_pages(self, room: str, *, first_page: int | None = None) -> Iterator[list[str]]:
        """The connection ids in ``room``, one Query page at a time, read as they are asked for
        (``first_page`` ids in the first, then ``WSGATE_FANOUT_SHARD_SIZE``). The Query reads
        each membership item whole: a projection trims the answer, not the read units, which
        DynamoDB counts by the size of the items read ("Using projection expressions")."""
        _check_room(room)
        now = time.time()
        for page in query_pages(
            _member_query(room),
            page_size=shard_size(),
            first_page_size=first_page,
            keep=lambda item: _alive(item, now),
        ):
            yield [str(item["connectionId"]) for item in page]

    @overload
    def remember(self, room: str, message: dict[str, Any]) -> dict[str, Any]: ...
    @overload
    def remember(self, room: str, message: str) -> str: ...

    def remember(self, room: str, message: dict[str, Any] | str) -> dict[str, Any] | str:
        """Add ``message`` to the room's history and return it as stored.

        A dict is returned with ``ts`` (epoch ms) and ``id`` filled in when missing; a str (say,
        a message that is already JSON text) is stored and returned unchanged.
        """
        _check_room(room)
        if not isinstance(message, dict | str):
            raise TypeError(f"remember() stores dict or str messages, not {type(message).__name__}")
        ts = int(time.time() * 1000)
        import uuid  # here, not at import: it costs a cold start ~3 ms and only history needs it

        message_id = uuid.uuid4().hex
        stored: dict[str, Any] | str = message
        if isinstance(message, dict):
            stored = dict(message)
            given = stored.get("ts")
            if isinstance(given, int) and not isinstance(given, bool) and given >= 0:
                ts = given
            stored["ts"] = ts
            if not isinstance(stored.get("id"), str) or not stored["id"]:
                stored["id"] = message_id
            message_id = stored["id"]
            body = {"message": _json.dumps(stored)}
        else:
            body = {"text": message}
        encode(stored)  # what cannot be sent is not stored either (SendTooLarge)
        dynamodb_client().put_item(
            TableName=table_name(),
            Item={
                "pk": {"S": ROOM_PREFIX + room},
                "sk": {"S": f"{HISTORY_PREFIX}{ts:013d}#{message_id}"},
                **to_dynamodb({**body, "ttl": int(time.time()) + HISTORY_SECONDS}),
            },
        )
        return stored

    def history(self, room: str, limit: int = 50) -> list[Any]:
        """The newest ``limit`` remembered messages of ``room``, oldest first: each a dict or a
        str, as it was remembered."""
        _check_room(room)
        if limit <= 0:
            return []
        request: dict[str, Any] = {
            "TableName": table_name(),
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {
                ":pk": {"S": ROOM_PREFIX + room},
                ":prefix": {"S": HISTORY_PREFIX},
            },
            "ScanIndexForward": False,
        }
        newest_first: list[dict[str, Any]] = []
        while len(newest_first) < limit:  # more than one page only past DynamoDB's 1 MB
            answer = dynamodb_client().query(**request, Limit=limit - len(newest_first))
            newest_first.extend(from_dynamodb(item) for item in answer.get("Items", []))
            if not answer.get("LastEvaluatedKey"):
                break
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
        now = time.time()
        return [
            item["text"] if "text" in item else _json.loads(item["message"])
            for item in reversed(newest_first)
            if _alive(item, now)
        ]


#: The rooms ``App`` and handlers use (``wsgate.rooms``).
rooms = Rooms()


def _member_query(room: str) -> dict[str, Any]:
    """The Query of a room's members: ids and TTLs only, strongly consistent (a member who has
    just joined is listed)."""
    return {
        "TableName": table_name(),
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": {
            ":pk": {"S": ROOM_PREFIX + room},
            ":prefix": {"S": CONNECTION_PREFIX},
        },
        "ProjectionExpression": "connectionId, #ttl",
        "ExpressionAttributeNames": {"#ttl": "ttl"},
        "ConsistentRead": True,
    }


def _alive(item: dict[str, Any], now: float) -> bool:
    """DynamoDB deletes expired items lazily (within days), so reads skip them themselves."""
    ttl = item.get("ttl")
    return not isinstance(ttl, int | float) or ttl > now


def _check_room(room: str) -> None:
    if not isinstance(room, str) or not room or len(room) > MAX_ROOM_LENGTH:
        raise BadRequest(f"room names are 1 to {MAX_ROOM_LENGTH} characters")
