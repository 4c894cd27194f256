"""The connection store: who is connected, with what identity and data, in which rooms.

One DynamoDB table (name from ``WSGATE_TABLE``) with the schema of :mod:`wsgate.apigw.table`
(string keys ``pk`` + ``sk``, TTL attribute ``ttl``; the Terraform module declares the same):

==========================  ====================  ===========================================
item                        pk                    sk
==========================  ====================  ===========================================
connection                  ``conn#<id>``         ``meta`` (connectedAt, identity, principal,
                                                  data, rooms: the set of rooms joined)
membership                  ``room#<room>``       ``conn#<id>``
room history message        ``room#<room>``       ``msg#<epoch ms, 13 digits>#<message id>``
directory entry             ``all#<0-3>``         ``conn#<id>`` (the shard is crc32(id) % 4)
==========================  ====================  ===========================================

A room's members and its history are each one Query on the room's partition (by ``sk`` prefix),
never a Scan; every connection (``connections.all()``) is one Query per directory shard. The
directory is spread over four partitions so that connects stay below one partition's limit of
1,000 writes a second (DynamoDB developer guide, "warm throughput scenarios") at API
Gateway's default quota of 500 new connections a second (WebSocket API quotas). Connection,
membership and directory items expire a little after API Gateway's 2-hour maximum connection
duration, so connections whose ``$disconnect`` never ran clean themselves up.

Consistency: a membership is written in the same transaction as the room's entry in the
connection's ``rooms`` set, on the condition that the connection item exists; ``delete`` removes
the connection item first and reads back its ``rooms`` in the same atomic call. A join that
races a disconnect therefore either lands before the delete (and is cleaned up by it) or fails
its condition; it can never leave a membership behind. The memberships a delete then removes
are removed on the condition that no newer connection item of the same id lists their room, so
a reconnect that joins meanwhile keeps its own.

Expiry: a join sets the connection item's ``ttl`` to the membership's, so the connection item
always expires last and no membership outlives the connection it belongs to.
"""

from __future__ import annotations

import os
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

from ._clients import dynamodb_client
from ._retry import error_code
from .apigw.limits import MAX_DURATION_S
from .apigw.table import HASH_KEY, RANGE_KEY
from .errors import ConfigurationError, Gone

T = TypeVar("T")

ENV_TABLE = "WSGATE_TABLE"
#: API Gateway closes every connection after 2 hours; items live this much longer, then expire.
MAX_CONNECTION_SECONDS = int(MAX_DURATION_S)
TTL_MARGIN_SECONDS = 15 * 60

CONNECTION_PREFIX = "conn#"
ROOM_PREFIX = "room#"
META_SK = "meta"
DIRECTORY_PREFIX = "all#"
DIRECTORY_SHARDS = 4
#: Directory items per Query page when listing every connection.
_DIRECTORY_PAGE = 1000

# Memberships removed per transaction; one more item checks the connection. A transaction holds
# at most 100 items and a condition expression at most 4 KB, which 50 rooms stay well under.
_STALE_BATCH_SIZE = 50
_GET_BATCH_SIZE = 100  # BatchGetItem's limit
_TRANSACTION_ATTEMPTS = 6


def table_configured() -> bool:
    """True when ``WSGATE_TABLE`` names a connection table (checked on every ``$connect``)."""
    return bool(os.environ.get(ENV_TABLE, "").strip())


def table_name() -> str:
    """The connection table's name; raises ``ConfigurationError`` naming the fix if unset."""
    name = os.environ.get(ENV_TABLE, "").strip()
    if not name:
        raise ConfigurationError(
            "no connection table: set WSGATE_TABLE to the module's table_name output "
            "(the Terraform module sets it on the functions it creates)"
        )
    return name


def connection_ttl(now: float | None = None) -> int:
    """The ``ttl`` (epoch seconds) for an item that must outlive a connection opened ``now``."""
    start = time.time() if now is None else now
    return int(start) + MAX_CONNECTION_SECONDS + TTL_MARGIN_SECONDS


def connection_key(connection_id: str) -> dict[str, Any]:
    """The DynamoDB key of a connection item."""
    return {HASH_KEY: {"S": CONNECTION_PREFIX + connection_id}, RANGE_KEY: {"S": META_SK}}


def membership_key(room: str, connection_id: str) -> dict[str, Any]:
    """The DynamoDB key of the item saying ``connection_id`` is in ``room``."""
    return {
        HASH_KEY: {"S": ROOM_PREFIX + room},
        RANGE_KEY: {"S": CONNECTION_PREFIX + connection_id},
    }


def directory_key(connection_id: str) -> dict[str, Any]:
    """The DynamoDB key of the connection's entry in the directory that ``all()`` reads."""
    shard = zlib.crc32(connection_id.encode()) % DIRECTORY_SHARDS
    return {
        "pk": {"S": f"{DIRECTORY_PREFIX}{shard}"},
        "sk": {"S": CONNECTION_PREFIX + connection_id},
    }


class ConnectionStore:
    """Connection items: ``wsgate.connections``."""

    def put(
        self,
        connection_id: str,
        *,
        connected_at: int | None = None,
        identity: Mapping[str, Any] | None = None,
        principal: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        """Record a new connection (``App`` calls this on ``$connect``).

        ``connected_at`` is epoch milliseconds (the event's ``connectedAt``; now if omitted).
        Putting an id again replaces its item but keeps the rooms it has joined.
        """
        _check_id(connection_id)
        item: dict[str, Any] = {
            "connectionId": connection_id,
            "connectedAt": int(connected_at if connected_at is not None else time.time() * 1000),
            "identity": dict(identity or {}),
            "data": dict(data or {}),
            "ttl": connection_ttl(),
        }
        if principal is not None:
            item["principal"] = principal
        client = dynamodb_client()
        table = table_name()
        try:  # the usual case, a new id: one plain conditional put
            client.put_item(
                TableName=table,
                Item={**connection_key(connection_id), **to_dynamodb(item)},
                ConditionExpression="attribute_not_exists(pk)",
            )
            self._list(client, table, connection_id, item)
            return
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
        self._list(client, table, connection_id, item)
        # The id is already stored: overwrite its fields but keep its rooms set, which must
        # keep matching its membership items.
        values = {f":{name}": value for name, value in item.items()}
        assignments = ", ".join(f"#{name} = :{name}" for name in item)
        client.update_item(
            TableName=table,
            Key=connection_key(connection_id),
            UpdateExpression=f"SET {assignments}",
            ExpressionAttributeNames={f"#{name}": name for name in item},
            ExpressionAttributeValues=to_dynamodb(values),
        )

    @staticmethod
    def _list(client: Any, table: str, connection_id: str, item: Mapping[str, Any]) -> None:
        """Write the connection's directory entry (after its item: a delete racing a put can
        leave a stray entry, which expires with its ``ttl`` and reads as gone when sent to)."""
        entry = {k: item[k] for k in ("connectionId", "connectedAt", "ttl")}
        client.put_item(
            TableName=table, Item={**directory_key(connection_id), **to_dynamodb(entry)}
        )

    def all(self) -> list[str]:
        """The ids of every stored connection, for a broadcast to everyone:
        ``wsgate.broadcast(wsgate.connections.all(), data)``.

        One paginated Query per directory shard (never a Scan: room history and memberships are
        not read); expired entries are skipped.
        """
        return [cid for page in self.pages() for cid in page]

    def pages(self, *, page_size: int | None = None) -> Iterator[list[str]]:
        """The ids of every stored connection, one Query page at a time (``all()`` in pages, for
        a fan-out that should not wait for the last page before it starts)."""
        table = table_name()
        now = time.time()
        for shard in range(DIRECTORY_SHARDS):
            for page in query_pages(
                {
                    "TableName": table,
                    "KeyConditionExpression": "pk = :pk",
                    "ExpressionAttributeValues": {":pk": {"S": f"{DIRECTORY_PREFIX}{shard}"}},
                    "ProjectionExpression": "connectionId, #ttl",
                    "ExpressionAttributeNames": {"#ttl": "ttl"},
                },
                page_size=page_size or _DIRECTORY_PAGE,
                keep=lambda item: not isinstance(item.get("ttl"), int | float) or item["ttl"] > now,
            ):
                yield [str(item["connectionId"]) for item in page]

    def get(self, connection_id: str) -> dict[str, Any] | None:
        """The stored connection, or None: ``{"connectionId", "connectedAt", "identity",
        "principal", "data", "rooms"}`` (``data`` holds what ``put``/``update`` stored)."""
        _check_id(connection_id)
        answer = dynamodb_client().get_item(
            TableName=table_name(), Key=connection_key(connection_id), ConsistentRead=True
        )
        item = answer.get("Item")
        return None if item is None else _connection_view(from_dynamodb(item))

    def get_many(self, connection_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The stored connections among ``connection_ids``, by id (missing ones left out).

        One BatchGetItem per 100 ids instead of one GetItem each: for listing a room's members
        with their names, for example.
        """
        wanted = list(dict.fromkeys(connection_ids))
        for connection_id in wanted:
            _check_id(connection_id)
        client = dynamodb_client()
        table = table_name()
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(wanted), _GET_BATCH_SIZE):
            keys = [connection_key(cid) for cid in wanted[start : start + _GET_BATCH_SIZE]]
            request: dict[str, Any] = {table: {"Keys": keys, "ConsistentRead": True}}
            for attempt in range(8):
                answer = client.batch_get_item(RequestItems=request)
                for item in answer.get("Responses", {}).get(table, []):
                    view = _connection_view(from_dynamodb(item))
                    found[str(view["connectionId"])] = view
                request = answer.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(_jitter(min(1.0, 0.05 * 2**attempt)))
            if request:
                raise RuntimeError(f"DynamoDB left keys unprocessed in {table}")
        return found

    def update(self, connection_id: str, **data: Any) -> None:
        """Set keys of the connection's user data (for example ``name="alice"``).

        Raises ``Gone`` when the connection is not in the store (it has disconnected).
        """
        _check_id(connection_id)
        if not data:
            return
        names = {"#data": "data"}
        values: dict[str, Any] = {}
        assignments = []
        for index, (key, value) in enumerate(data.items()):
            names[f"#k{index}"] = key
            values[f":v{index}"] = value
            assignments.append(f"#data.#k{index} = :v{index}")
        try:
            dynamodb_client().update_item(
                TableName=table_name(),
                Key=connection_key(connection_id),
                UpdateExpression="SET " + ", ".join(assignments),
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_dynamodb(values),
            )
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise Gone(connection_id) from exc
            raise

    def delete(self, connection_id: str, *, connected_before: int | None = None) -> bool:
        """Remove the connection and every room membership it has. Idempotent.

        With ``connected_before`` (epoch ms), only a connection recorded as connected earlier
        is removed. Returns True if the connection was in the store and was removed.
        """
        _check_id(connection_id)
        client = dynamodb_client()
        table = table_name()
        condition: dict[str, Any] = {}
        if connected_before is not None:
            condition = {
                "ConditionExpression": "attribute_not_exists(pk) OR connectedAt < :cutoff",
                "ExpressionAttributeValues": {":cutoff": {"N": str(int(connected_before))}},
            }
        try:
            answer = client.delete_item(
                TableName=table,
                Key=connection_key(connection_id),
                ReturnValues="ALL_OLD",
                **condition,
            )
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        old = answer.get("Attributes")
        if old is None:
            unlist(table, connection_id)  # a stray entry, if any
            return False
        unlist(table, connection_id, old.get("connectedAt"))
        remove_memberships(table, connection_id, old.get("rooms", {}).get("SS", []))
        return True

    def rooms_of(self, connection_id: str) -> list[str]:
        """The rooms the connection is in, sorted; empty when it is not in the store."""
        _check_id(connection_id)
        answer = dynamodb_client().get_item(
            TableName=table_name(),
            Key=connection_key(connection_id),
            ConsistentRead=True,
            ProjectionExpression="#rooms",
            ExpressionAttributeNames={"#rooms": "rooms"},
        )
        return sorted(answer.get("Item", {}).get("rooms", {}).get("SS", []))


#: The store ``App`` and handlers use (``wsgate.connections``).
connections = ConnectionStore()


def unlist(table: str, connection_id: str, connected_at: Any = None) -> None:
    """Delete the directory entry of a connection whose item is gone: one conditional
    DeleteItem, which spares the entry of a newer connection of the same id (another
    ``connectedAt``). ``connected_at`` None removes a stray entry whatever it holds."""
    request: dict[str, Any] = {"TableName": table, "Key": directory_key(connection_id)}
    if connected_at is not None:
        request["ConditionExpression"] = "attribute_not_exists(connectedAt) OR connectedAt = :at"
        request["ExpressionAttributeValues"] = {":at": connected_at}
    try:
        dynamodb_client().delete_item(**request)
    except Exception as exc:
        if error_code(exc) != "ConditionalCheckFailedException":
            raise


def remove_memberships(table: str, connection_id: str, rooms: Iterable[str]) -> None:
    """Delete the memberships of a connection whose item is gone, in ``rooms``.

    Each is deleted only while no connection item of the same id lists its room: a newer
    connection of that id (a reconnect that joined meanwhile) keeps the memberships it owns.
    """
    wanted = sorted(set(rooms))
    for start in range(0, len(wanted), _STALE_BATCH_SIZE):
        chunk = wanted[start : start + _STALE_BATCH_SIZE]
        if not transact(_stale_removal(table, connection_id, chunk)):
            for room in chunk:  # some room is owned again: settle them one by one
                transact(_stale_removal(table, connection_id, [room]))


def _stale_removal(table: str, connection_id: str, rooms: list[str]) -> list[dict[str, Any]]:
    unlisted = " AND ".join(f"NOT contains(#rooms, :r{n})" for n in range(len(rooms)))
    check = {
        "ConditionCheck": {
            "TableName": table,
            "Key": connection_key(connection_id),
            "ConditionExpression": f"attribute_not_exists(pk) OR ({unlisted})",
            "ExpressionAttributeNames": {"#rooms": "rooms"},
            "ExpressionAttributeValues": {f":r{n}": {"S": r} for n, r in enumerate(rooms)},
        }
    }
    deletes = [
        {"Delete": {"TableName": table, "Key": membership_key(room, connection_id)}}
        for room in rooms
    ]
    return [check, *deletes]


def transact(items: list[dict[str, Any]]) -> bool:
    """Run ``TransactWriteItems``; False when a condition failed, retrying conflicts.

    DynamoDB cancels a transaction that touches an item another transaction is writing
    (``TransactionConflict``); that is transient, so it is retried with jittered backoff.
    """
    client = dynamodb_client()
    for attempt in range(_TRANSACTION_ATTEMPTS):
        try:
            client.transact_write_items(TransactItems=items)
            return True
        except Exception as exc:
            code = error_code(exc)
            reasons = _cancellation_codes(exc)
            if code == "TransactionCanceledException" and "ConditionalCheckFailed" in reasons:
                return False
            conflict = code == "TransactionConflictException" or "TransactionConflict" in reasons
            if not conflict or attempt + 1 == _TRANSACTION_ATTEMPTS:
                raise
            time.sleep(_jitter(min(1.0, 0.02 * 2**attempt)))
    raise AssertionError("unreachable")  # pragma: no cover


def query_all(
    params: dict[str, Any], *, page_size: int, keep: Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    """Every item of a Query, page by page (``page_size`` items a page), kept if ``keep``."""
    return [item for page in query_pages(params, page_size=page_size, keep=keep) for item in page]


def query_pages(
    params: dict[str, Any],
    *,
    page_size: int,
    keep: Callable[[dict[str, Any]], bool],
    first_page_size: int | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """The items of a Query one page at a time (kept if ``keep``), read only as they are asked
    for: ``first_page_size`` items in the first page, then ``page_size`` (a page also ends at
    DynamoDB's 1 MB, the Query API reference's limit on one answer)."""
    client = dynamodb_client()
    request = dict(params, Limit=first_page_size or page_size)
    while True:
        answer = client.query(**request)
        yield [item for item in map(from_dynamodb, answer.get("Items", [])) if keep(item)]
        last = answer.get("LastEvaluatedKey")
        if not last:
            return
        request["ExclusiveStartKey"] = last
        request["Limit"] = page_size


def to_dynamodb(values: Mapping[str, Any]) -> dict[str, Any]:
    """Plain Python values → DynamoDB attribute values (floats become exact decimals)."""
    from boto3.dynamodb.types import TypeSerializer  # type: ignore[import-untyped,unused-ignore]

    serializer = TypeSerializer()
    return {key: serializer.serialize(_decimals(value)) for key, value in values.items()}


def from_dynamodb(item: Mapping[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values → plain Python (ints, floats, lists; sets become sorted lists)."""
    from boto3.dynamodb.types import TypeDeserializer  # type: ignore[import-untyped,unused-ignore]

    deserializer = TypeDeserializer()
    return {key: _plain(deserializer.deserialize(value)) for key, value in item.items()}


def _connection_view(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "connectionId": item.get("connectionId"),
        "connectedAt": item.get("connectedAt"),
        "identity": item.get("identity") or {},
        "principal": item.get("principal"),
        "data": item.get("data") or {},
        "rooms": sorted(item.get("rooms") or []),
    }


def _cancellation_codes(exc: BaseException) -> set[str]:
    response = getattr(exc, "response", None) or {}
    reasons: Iterable[Any] = response.get("CancellationReasons") or []
    return {str(reason.get("Code")) for reason in reasons if isinstance(reason, dict)}


def _check_id(connection_id: str) -> None:
    if not isinstance(connection_id, str) or not connection_id:
        raise ValueError("connection_id must be a non-empty string")


def _decimals(value: Any) -> Any:
    if isinstance(value, float):
        from decimal import Decimal  # only for float values stored in the table

        return Decimal(repr(value))
    if isinstance(value, Mapping):
        return {str(k): _decimals(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_decimals(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    from decimal import Decimal  # read items only: boto3, loaded by then, has imported decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(_plain(v) for v in value)
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if type(value).__name__ == "Binary":  # boto3's wrapper for the B type
        return bytes(value.value)
    return value


def _jitter(cap: float) -> float:
    """A delay drawn uniformly from 0 to ``cap`` (``random`` is imported only when retrying)."""
    import random

    return random.uniform(0.0, cap)
